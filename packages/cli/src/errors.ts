/** Wrong use of the command line: exit status 2 and the usage text. */
export class UsageError extends Error {}

/** A command that failed for another reason than the store (a file, the server, a setting): exit status 1 and one line. */
export class CommandError extends Error {}
