// The schema pieces the API's routes share: the `:httpdid` parameter, the error and server answers, and GET /cluster's.

/** The `:httpdid` path parameter: an httpdid or a server name. */
export const ID_PARAMS = {
  type: 'object',
  additionalProperties: false,
  required: ['httpdid'],
  properties: {
    httpdid: {
      type: 'string',
      pattern: '^(?:[1-9][0-9]{0,14}|[a-z][a-z0-9-]{0,62})$',
      description: "must be the server's httpdid (a positive integer) or its name (a DNS label that starts with a letter)",
    },
  },
} as const;

/** Every error answer (schemas/error.json). */
export const ERROR_RESPONSE = { $ref: 'https://isohttpd.local/schemas/error.json#' } as const;
/** A server (schemas/server.json). */
export const SERVER_RESPONSE = { $ref: 'https://isohttpd.local/schemas/server.json#' } as const;

/** GET /cluster: this node, whether it leads, and every node the database knows. */
export const CLUSTER_RESPONSE = {
  type: 'object',
  additionalProperties: false,
  required: ['node', 'leader', 'nodes'],
  properties: {
    node: { type: 'string', description: "this node's name" },
    leader: { type: 'boolean', description: 'whether this node leads (holds the leader lock and plans placements)' },
    nodes: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'address', 'apiUrl', 'live', 'sinceMs'],
        properties: {
          name: { type: 'string' },
          address: { type: 'string', description: "the node's own address: its tenant listeners bind there" },
          apiUrl: { type: 'string', description: 'where its control API (and GET /healthz) answers' },
          live: { type: 'boolean', description: 'its last heartbeat is within the lease (cluster.leaseMs), by the database clock' },
          sinceMs: { type: ['number', 'null'], description: 'ms since its last heartbeat by the database clock; null once it left' },
        },
      },
    },
  },
} as const;
