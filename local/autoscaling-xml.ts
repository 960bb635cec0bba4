/**
 * The AWS query protocol as Auto Scaling speaks it: form-encoded requests (`Action=…&Version=…`,
 * lists as `Name.member.N`), XML responses and `<ErrorResponse>` errors, so the real
 * @aws-sdk/client-auto-scaling parses what the local emulator answers.
 */
const NS = 'http://autoscaling.amazonaws.com/doc/2011-01-01/';

export type XmlValue = string | number | boolean | undefined | XmlValue[] | { [key: string]: XmlValue };

/** An Auto Scaling API error, with AWS's error code (`ValidationError`, `LimitExceeded`, …). */
export class AutoScalingApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = code;
  }
}

const escape = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function toXml(value: XmlValue): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return value.map((item) => `<member>${toXml(item)}</member>`).join('');
  if (typeof value === 'object') {
    return Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `<${k}>${toXml(v)}</${k}>`)
      .join('');
  }
  return escape(String(value));
}

export function resultXml(action: string, result: Record<string, XmlValue>, requestId: string): string {
  return (
    `<?xml version="1.0"?><${action}Response xmlns="${NS}"><${action}Result>${toXml(result)}</${action}Result>` +
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`
  );
}

export function errorXml(error: AutoScalingApiError, requestId: string): string {
  return (
    `<?xml version="1.0"?><ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>${escape(error.code)}</Code>` +
    `<Message>${escape(error.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`
  );
}

/** The request's parameters; `list(params, 'AutoScalingGroupNames')` reads `…member.N`. */
export function parseQuery(body: string): Map<string, string> {
  return new Map(new URLSearchParams(body).entries());
}

export function list(params: Map<string, string>, name: string): string[] {
  const items: string[] = [];
  for (let i = 1; params.has(`${name}.member.${i}`); i++) items.push(params.get(`${name}.member.${i}`)!);
  return items;
}
