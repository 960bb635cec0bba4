/**
 * The agent's configuration as a stage publishes it in SSM Parameter Store
 * (`/drover/<stage>/agent`, readable with AgentPolicy), so a launching instance needs only the
 * agent and its stage name: `drover-agent --stage prod` reads the rest.
 */
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { z } from 'zod';

export const agentParameterName = (stage: string): string => `/drover/${stage}/agent`;

/** The parameter's value (JSON); keys as in agent.yaml. */
export const agentParameterSchema = z
  .object({
    stage: z.string().min(1),
    region: z.string().min(1),
    replies_queue_url: z.string().url(),
    kms_key_id: z.string().min(1).optional(),
    public_key: z.string().min(1).optional(),
  })
  .refine((p) => p.kms_key_id !== undefined || p.public_key !== undefined, {
    message: 'names neither kms_key_id nor public_key',
  });
export type AgentParameter = z.infer<typeof agentParameterSchema>;

export class AgentParameterError extends Error {
  override name = 'AgentParameterError';
}

export function createSsmClient(options: {
  region: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}): SSMClient {
  return new SSMClient({
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
}

/** Reads and validates `/drover/<stage>/agent`; the error says what to check. */
export async function fetchAgentParameter(client: SSMClient, stage: string): Promise<AgentParameter> {
  const name = agentParameterName(stage);
  let value: string | undefined;
  try {
    value = (await client.send(new GetParameterCommand({ Name: name }))).Parameter?.Value;
  } catch (error: unknown) {
    const why = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new AgentParameterError(
      `cannot read the stage's agent configuration ${name} (${why}); is stage "${stage}" deployed in this region, and does the instance role have AgentPolicy?`,
      { cause: error },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(value ?? '');
  } catch (error: unknown) {
    throw new AgentParameterError(`${name} is not JSON`, { cause: error });
  }
  const parsed = agentParameterSchema.safeParse(json);
  if (!parsed.success)
    throw new AgentParameterError(`${name} is not an agent configuration: ${parsed.error.message}`);
  if (parsed.data.stage !== stage) {
    throw new AgentParameterError(
      `${name} is the configuration of stage "${parsed.data.stage}", not "${stage}"`,
    );
  }
  return parsed.data;
}
