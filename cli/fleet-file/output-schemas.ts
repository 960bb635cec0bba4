/**
 * The `--json` documents of `drover fleet …`, as zod schemas: the commands' types come from them
 * and the end-to-end tests validate real output against them.
 */
import { z } from 'zod';

const problem = z
  .object({
    path: z.string(),
    message: z.string(),
    line: z.number().int().min(1).optional(),
    column: z.number().int().min(1).optional(),
  })
  .strict();

/** `fleet validate --json`. */
export const fleetValidateDocumentSchema = z.discriminatedUnion('valid', [
  z.object({ file: z.string(), valid: z.literal(true), groups: z.array(z.string()) }).strict(),
  z.object({ file: z.string(), valid: z.literal(false), problems: z.array(problem).min(1) }).strict(),
]);
export type FleetValidateJson = z.infer<typeof fleetValidateDocumentSchema>;

const origin = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('value'), from: z.string() }).strict(),
  z.object({ kind: z.literal('list'), items: z.array(z.string()) }).strict(),
  z.object({ kind: z.literal('map'), keys: z.record(z.string(), z.string()) }).strict(),
]);

/** `fleet show --json`: the merged group. */
export const fleetShowDocumentSchema = z
  .object({
    name: z.string(),
    lineage: z.array(z.string()).min(2),
    settings: z.record(z.string(), z.unknown()),
    origins: z.record(z.string(), origin),
    runList: z.array(z.string()),
    bootstrap: z.string().optional(),
    decommission: z.string().optional(),
    requires: z.array(z.object({ group: z.string(), count: z.number().int().min(1) }).strict()),
    facts: z.record(z.string(), z.unknown()),
  })
  .strict();

/** `fleet role|packer --write DIR --json`. */
export const fleetWrittenDocumentSchema = z
  .object({ written: z.array(z.object({ group: z.string(), path: z.string() }).strict()) })
  .strict();
export type FleetWrittenJson = z.infer<typeof fleetWrittenDocumentSchema>;

/** `fleet packer <group> --json`. */
export const fleetPackerDocumentSchema = z
  .object({ group: z.string(), format: z.enum(['hcl', 'json']), fileName: z.string(), template: z.string() })
  .strict();
export type FleetPackerJson = z.infer<typeof fleetPackerDocumentSchema>;

/** `fleet hosts <group> --json`. */
export const fleetHostsDocumentSchema = z
  .object({
    group: z.string(),
    hosts: z.array(
      z
        .object({
          ordinal: z.number().int().min(0),
          identity: z.string(),
          nodeId: z.string(),
          joinedAt: z.number(),
          lastSeen: z.number(),
        })
        .strict(),
    ),
  })
  .strict();
export type FleetHostsJson = z.infer<typeof fleetHostsDocumentSchema>;
