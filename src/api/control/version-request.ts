// What a create, redeploy or rollback request asks for, in the terms of a server version: the request's fields normalised (defaults, frozen copies), a redeploy's fields merged over the version it replaces, and a rollback's target. Shared by the one-node lifecycle (lifecycle.ts) and cluster mode (src/api/cluster/cluster-lifecycle.ts).

import type { Language } from '../../core/language.js';
import { type Limits, resolveLimits } from '../../core/limits.js';
import { IsoError } from '../../core/errors.js';
import type { EgressPolicy } from '../../host/worker/protocol.js';
import type { VersionRow } from '../registry/registry.js';
import { sameEgress } from './managed-server.js';
import { type CreateRequest, EXPOSE_ERRORS_DEFAULT, type UpdateRequest } from './views.js';

/** The fields of a version as the tenant gave them (the source before TypeScript is stripped). */
export interface VersionFields {
  readonly tenantSource: string;
  readonly language: Language;
  readonly limits: Limits;
  readonly exposeErrors: boolean;
  readonly vars: Readonly<Record<string, string>>;
  readonly egress: EgressPolicy | null;
}

/** A source's size in UTF-8 bytes. @throws IsoError 413 over the API-wide source limit `maxSourceBytes` (the tenant quota is checked after). */
export function sourceBytes(source: string, maxSourceBytes: number): number {
  const bytes = Buffer.byteLength(source, 'utf8');
  if (bytes > maxSourceBytes) throw new IsoError('ISO_ERR_API_BODY_TOO_LARGE', `body.source is ${bytes} bytes; at most ${maxSourceBytes} are allowed`);
  return bytes;
}

/** An egress policy as a frozen copy (null: none). */
function frozenEgress(egress: EgressPolicy | null): EgressPolicy | null {
  return egress === null ? null : Object.freeze({ allow: Object.freeze([...egress.allow]) });
}

/** A create request's version 1 and its replicas, defaults applied (its hostnames: requestHostnames). */
export function createdVersion(req: CreateRequest): VersionFields & { readonly replicas: number } {
  return {
    tenantSource: req.source,
    language: req.language ?? 'javascript',
    limits: resolveLimits(req.limits),
    exposeErrors: req.exposeErrors ?? EXPOSE_ERRORS_DEFAULT,
    vars: Object.freeze({ ...req.vars }),
    egress: frozenEgress(req.egress ?? null),
    replicas: req.replicas ?? 1,
  };
}

/** Checks that a redeploy asks for something. @throws IsoError 400 (no field; a language without a source) */
export function checkUpdateRequest(req: UpdateRequest): void {
  if (req.source === undefined && req.limits === undefined && req.exposeErrors === undefined && req.vars === undefined && req.egress === undefined)
    throw new IsoError('ISO_ERR_API_BAD_REQUEST', 'body must have source, limits, exposeErrors, vars or egress (or several)');
  if (req.language !== undefined && req.source === undefined) throw new IsoError('ISO_ERR_API_BAD_REQUEST', 'body.language applies to a body.source: give both');
}

/** A redeploy's fields over the version `old` (limits merged key by key, the others replaced when given), and whether they are all the same as `old`'s. */
export function updatedVersion(old: VersionFields, req: UpdateRequest): VersionFields & { readonly same: boolean } {
  const next: VersionFields = {
    tenantSource: req.source ?? old.tenantSource,
    language: req.language ?? old.language,
    limits: req.limits === undefined ? old.limits : Object.freeze({ ...old.limits, ...req.limits }),
    exposeErrors: req.exposeErrors ?? old.exposeErrors,
    vars: req.vars === undefined ? old.vars : Object.freeze({ ...req.vars }),
    egress: req.egress === undefined ? old.egress : frozenEgress(req.egress),
  };
  const same =
    next.tenantSource === old.tenantSource &&
    next.language === old.language &&
    next.exposeErrors === old.exposeErrors &&
    sameLimits(next.limits, old.limits) &&
    sameVars(next.vars, old.vars) &&
    sameEgress(next.egress, old.egress);
  return { ...next, same };
}

/**
 * The kept version a rollback goes to: `to`, or (absent) the newest kept one before `current`.
 * @throws IsoError 404 ISO_ERR_API_VERSION_NOT_FOUND naming the versions kept.
 */
export function rollbackTarget(httpdid: number, kept: readonly VersionRow[], current: number, to: number | undefined): VersionRow {
  const target = to === undefined ? kept.find((v) => v.version < current) : kept.find((v) => v.version === to);
  if (target !== undefined) return target;
  const have = kept.map((v) => v.version).join(', ');
  throw new IsoError(
    'ISO_ERR_API_VERSION_NOT_FOUND',
    to === undefined ? `server ${httpdid} has no kept version before ${current} (kept: ${have})` : `server ${httpdid} keeps no version ${to} (kept: ${have})`,
  );
}

/** The redeploy that brings a kept version back (as a new version). */
export function rollbackRequest(target: VersionRow): UpdateRequest {
  return {
    source: target.source,
    language: target.language,
    limits: target.limits,
    exposeErrors: target.exposeErrors,
    vars: { ...target.vars },
    egress: target.egress === null ? null : { allow: [...target.egress.allow] },
  };
}

/** Whether two sets of variables are equal. */
function sameVars(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

/** Whether two complete limit sets are equal. */
function sameLimits(a: Limits, b: Limits): boolean {
  return (Object.keys(a) as Array<keyof Limits>).every((k) => a[k] === b[k]) && Object.keys(a).length === Object.keys(b).length;
}
