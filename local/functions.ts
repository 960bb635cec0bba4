/**
 * The control-plane functions, by the names serverless.yml gives them, with the handler module
 * each one deploys (a packaging test checks the two lists agree).
 */
export const CONTROL_PLANE_FUNCTIONS = {
  plan: 'functions/plan.handler',
  dispatch: 'functions/dispatch.handler',
  awaitReplies: 'functions/awaitReplies.handler',
  closeBatch: 'functions/closeBatch.handler',
  finish: 'functions/finish.handler',
  ingest: 'functions/ingest.handler',
  cancelRun: 'functions/cancelRun.handler',
  reaper: 'functions/reaper.handler',
  instanceState: 'functions/instanceState.handler',
  recordEvent: 'functions/recordEvent.handler',
  lifecycle: 'functions/lifecycle.handler',
  lifecycleWait: 'functions/lifecycleWait.handler',
  lifecycleRunDone: 'functions/lifecycleRunDone.handler',
  react: 'functions/react.handler',
} as const;

export type FunctionName = keyof typeof CONTROL_PLANE_FUNCTIONS;

/** `${PlanFunctionArn}` in an ASL file names the `plan` function. */
export function placeholderFor(name: string): string {
  return '${' + name[0]!.toUpperCase() + name.slice(1) + 'FunctionArn}';
}
