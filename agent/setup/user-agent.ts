/**
 * The agent's SQS client sends one User-Agent, worked out once, instead of the SDK's, rebuilt on
 * every call. The SDK's middleware awaits its default sections and escapes each of them again,
 * then inspects the call's context and the client's config for the SDK features the call used
 * (the `m/…` section) on every call: measured against a canned endpoint, about 50 µs of client CPU
 * per call, 15 % of a `DeleteMessage` and 10 % of a `SendMessageBatch`; an agent process hosting
 * 500 agents makes some 1,100 such calls per run. AWS requires no User-Agent, and reads it only
 * for what CloudTrail shows: this one still names the SDK, its version, the OS, Node and the API,
 * as the SDK's does (minus the features), and adds `drover-agent/<version>`.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';

/** The SDK's name for its middleware (its `getUserAgentMiddleware` options), removed here. */
const SDK_USER_AGENT_MIDDLEWARE = 'getUserAgentMiddleware';

export interface UserAgentHeaders {
  'user-agent': string;
  'x-amz-user-agent': string;
}

type Section = [name: string, version?: string];

/** Characters the SDK keeps in a section's name and version; anything else becomes `-`. */
const NAME_UNSAFE = /[^!$%&'*+\-.^_`|~\w]/g;
const VERSION_UNSAFE = /[^!$%&'*+\-.^_`|~\w#]/g;

/** One section as the SDK writes it: `name/version`, or `prefix/name#version` (`md/nodejs#20.20.2`). */
export function formatSection([name, version]: Section): string {
  const parts = name.split('/').map((part) => part.replace(NAME_UNSAFE, '-'));
  const escapedVersion = version?.replace(VERSION_UNSAFE, '-');
  if (parts.length === 1) return escapedVersion ? `${parts[0]}/${escapedVersion}` : parts[0]!;
  const [prefix, ...rest] = parts;
  const named = prefix === 'api' ? rest.join('/').toLowerCase() : rest.join('/');
  return `${prefix}/${named}${escapedVersion ? `#${escapedVersion}` : ''}`;
}

/** The two headers, from the SDK's default sections and the agent's own. */
export function userAgentHeaders(sdkSections: Section[], agentVersion: string): UserAgentHeaders {
  const sections = sdkSections.map(formatSection);
  const agent = formatSection(['drover-agent', agentVersion]);
  return {
    'user-agent': [...sections, agent].join(' '),
    'x-amz-user-agent': [...sections.filter((s) => s.startsWith('aws-sdk-')), agent].join(' '),
  };
}

/**
 * Replaces the client's User-Agent middleware by one setting headers worked out now. Call it
 * before the client's first call: with `cacheMiddleware` a command's stack is resolved once.
 * Returns the headers it sends.
 */
export async function useStaticUserAgent(client: SQSClient, agentVersion: string): Promise<UserAgentHeaders> {
  const sdkSections = (await client.config.defaultUserAgentProvider()) as Section[];
  const headers = userAgentHeaders(sdkSections, agentVersion);
  client.middlewareStack.remove(SDK_USER_AGENT_MIDDLEWARE);
  const [userAgent, amzUserAgent] = [headers['user-agent'], headers['x-amz-user-agent']];
  client.middlewareStack.add(
    (next) => (args) => {
      const request = args.request as { headers?: Record<string, string> } | undefined;
      if (request?.headers) {
        request.headers['user-agent'] = userAgent;
        request.headers['x-amz-user-agent'] = amzUserAgent;
      }
      return next(args);
    },
    // Where the SDK's ran: before signing (which leaves these headers out of the signature anyway).
    { name: 'droverStaticUserAgent', step: 'build', priority: 'low', tags: ['SET_USER_AGENT', 'USER_AGENT'] },
  );
  return headers;
}
