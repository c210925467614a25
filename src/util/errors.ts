// Errors that are part of prefdyn's interface. Library code throws them for input a user can fix;
// the command line prints their message as one line, `prefdyn: <message>`, and exits with their code.

/** A mistake the user can fix (bad file, bad option value): exit code `exitCode` (default 1). */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** Wrong command-line usage (unknown option, missing argument): exit code 2, as getopt tools do. */
export class UsageError extends UserError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'UsageError';
  }
}
