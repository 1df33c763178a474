/** An error meant for the user: one line on stderr, no stack trace, the given exit status. */
export class UserError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

/** Usage errors exit 2, as FINDINGS.md's contract says. */
export function usageError(message: string): UserError {
  return new UserError(message, 2);
}
