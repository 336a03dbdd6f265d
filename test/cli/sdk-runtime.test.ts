import { afterEach, describe, expect, it, vi } from 'vitest';
import { sdkRuntimeOptions } from '../../src/cli/sdk-runtime.js';

describe('the SDK runtime the CLI installs', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("forwards the native core's log lines to the logger instead of letting core print them to stdout", () => {
    for (const debug of [false, true]) {
      const options = sdkRuntimeOptions(debug);
      const logging = options.telemetryOptions?.logging as { forward?: unknown; console?: unknown; filter?: unknown } | undefined;
      expect(logging?.forward).toEqual({});
      expect(logging?.console).toBeUndefined();
      expect(logging?.filter).toEqual({ core: debug ? 'INFO' : 'WARN', other: 'ERROR' });
      expect(options.shutdownSignals).toEqual([]);
    }
  });

  it('writes a forwarded core error to stderr as one line, and nothing to stdout', () => {
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const { logger } = sdkRuntimeOptions(false);
    logger!.error('Waiting for all slot permits to release took too long!', { sdkComponent: 'core' });
    logger!.info('an info line the CLI does not show', { sdkComponent: 'core' });
    expect(stdout).not.toHaveBeenCalled();
    expect(stderr.mock.calls.map((call) => String(call[0]))).toEqual(['temporal error: Waiting for all slot permits to release took too long!\n']);
  });
});
