// The schema pieces the API's routes share: the `:httpdid` parameter and the error and server answers.

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
