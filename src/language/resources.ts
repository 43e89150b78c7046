/** Classifies a Task state's `Resource` ARN: what kind of work it names and how AWS records it. */

export type IntegrationPattern = 'request' | 'sync' | 'sync:2' | 'waitForTaskToken';

export type ResourceInfo =
  /** A Lambda function ARN used directly (the legacy form, recorded as LambdaFunction* events). */
  | { kind: 'lambda'; functionArn: string }
  /** `arn:aws:states:::<service>:<action>[.<pattern>]`, including `aws-sdk:<service>:<action>`. */
  | {
      kind: 'service';
      /** `resourceType` in history (e.g. `lambda`, `aws-sdk:s3`). */
      resourceType: string;
      /** `resource` in history: the action with its pattern suffix (e.g. `invoke.waitForTaskToken`). */
      resource: string;
      action: string;
      pattern: IntegrationPattern;
      region: string | undefined;
    }
  | { kind: 'activity'; activityArn: string }
  | { kind: 'unknown'; arn: string };

const SERVICE = /^arn:([\w-]+):states:([\w-]*):(\d*):(.+)$/;

const memo = new Map<string, ResourceInfo>();

/** Parses a resource ARN (memoised: a definition has few distinct resources, tasks run often). */
export function parseResource(arn: string): ResourceInfo {
  let info = memo.get(arn);
  if (info === undefined) {
    info = parseResourceUncached(arn);
    if (memo.size > 10_000) memo.clear();
    memo.set(arn, info);
  }
  return info;
}

function parseResourceUncached(arn: string): ResourceInfo {
  const parts = arn.split(':');
  if (parts[0] === 'arn' && parts[2] === 'lambda' && parts[5] === 'function') {
    return { kind: 'lambda', functionArn: arn };
  }
  if (parts[0] === 'arn' && parts[2] === 'states' && parts[5] === 'activity') {
    return { kind: 'activity', activityArn: arn };
  }
  const m = SERVICE.exec(arn);
  if (m) {
    const rest = m[4]!;
    const segs = rest.split(':');
    const sdk = segs[0] === 'aws-sdk';
    const service = sdk ? `aws-sdk:${segs[1] ?? ''}` : (segs[0] ?? '');
    const actionFull = (sdk ? segs.slice(2) : segs.slice(1)).join(':');
    let action = actionFull;
    let pattern: IntegrationPattern = 'request';
    for (const suffix of ['.sync:2', '.sync', '.waitForTaskToken'] as const) {
      if (actionFull.endsWith(suffix)) {
        action = actionFull.slice(0, -suffix.length);
        pattern = suffix.slice(1) as IntegrationPattern;
        break;
      }
    }
    if (service && action) {
      return {
        kind: 'service',
        resourceType: service,
        resource: actionFull,
        action,
        pattern,
        region: m[2] || undefined,
      };
    }
  }
  return { kind: 'unknown', arn };
}
