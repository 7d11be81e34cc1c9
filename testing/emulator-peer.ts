// healthlake-emulator is an optional peer dependency: the local stack (this entry point, the CLI's
// emulator, generate-fhir, demo and setup commands) needs it, production code never does. Loading
// it goes through here so that a missing install says what to do instead of "Cannot find module".

/** The optional peer package that holds the HealthLake emulator and the local stack. */
export const EMULATOR_PACKAGE = 'healthlake-emulator';

/** Thrown when a local-stack feature is used without `healthlake-emulator` installed. */
export class EmulatorNotInstalledError extends Error {
  override readonly name = 'EmulatorNotInstalledError';
  constructor(
    /** What needed it, e.g. `temporal-healthlake/testing` or `the emulator command`. */
    readonly feature: string,
  ) {
    super(
      `${feature} needs the optional peer dependency ${EMULATOR_PACKAGE}, which is not installed: ` +
        `npm install --save-dev ${EMULATOR_PACKAGE}`,
    );
  }
}

/** Whether `err` says that `healthlake-emulator` itself (not something it loads) cannot be found. */
function isEmulatorMissing(err: unknown): boolean {
  const error = err as { code?: unknown; message?: unknown } | null;
  return (
    error?.code === 'MODULE_NOT_FOUND' &&
    typeof error.message === 'string' &&
    error.message.startsWith(`Cannot find module '${EMULATOR_PACKAGE}`)
  );
}

/**
 * Runs `load` (a `require` of a healthlake-emulator entry point) and turns a missing package into
 * an {@link EmulatorNotInstalledError} naming `feature`.
 *
 * @example
 * const cli = loadEmulator('the emulator command', () => require('healthlake-emulator/cli'));
 */
export function loadEmulator<T>(feature: string, load: () => T): T {
  const loaded = loadOptionalEmulator(load);
  if (loaded === undefined) throw new EmulatorNotInstalledError(feature);
  return loaded;
}

/** Runs `load` and resolves `undefined` when `healthlake-emulator` is not installed (an optional feature). */
export function loadOptionalEmulator<T>(load: () => T): T | undefined {
  try {
    return load();
  } catch (err) {
    if (isEmulatorMissing(err)) return undefined;
    throw err;
  }
}
