/**
 * A local folder as a destination (the embedded default). An object is written to a hidden temp file beside its
 * final name (`.<name>.<random>.partial`), fsynced, then renamed into place, so a reader sees the old object or the
 * new one, whole. Listings skip the temp files. Keys are checked before any path is built: none leaves the folder.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { Destination, ObjectInfo, ObjectWrite, WriteOptions } from './types.js';
import { DestinationError, checkKey, checkPrefix, mapLimit, parseJson, stagedWrite, writeJson } from './common.js';

const TEMP_FILE = /^\..+\.[0-9a-f]{12}\.partial$/;
const CHUNK = 1 << 20;

export class LocalDestination implements Destination {
  readonly description: string;
  /** absolute */
  readonly folder: string;

  constructor(to: string, root: string) {
    this.folder = path.resolve(root, to);
    this.description = `folder ${this.folder}`;
  }

  write(key: string, options: WriteOptions = {}): ObjectWrite {
    const file = this.file(key);
    const temp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.partial`);
    const sink = new FileSink(temp);
    const discard = async (): Promise<void> => {
      if (!sink.destroyed) sink.destroy();
      if (!sink.closed) await finished(sink).catch(() => undefined);
      await fs.rm(temp, { force: true }).catch(() => undefined);
    };
    return stagedWrite(sink, `${this.description}, key '${key}'`, {
      commit: async () => {
        try {
          await finished(sink);
          if (options.sha256 !== undefined && options.sha256 !== sink.sha256) {
            throw new DestinationError(
              `${this.description}: the bytes written for '${key}' have sha256 ${sink.sha256}, not the expected ${options.sha256}; nothing was written.`,
            );
          }
          await fs.rename(temp, file);
        } catch (error) {
          await discard();
          throw this.failure('write', key, error);
        }
        await syncFolder(path.dirname(file));
        const stat = await fs.stat(file).catch(() => undefined);
        return { key, bytes: sink.bytes, sha256: sink.sha256, modified: stat?.mtime ?? new Date() };
      },
      discard,
      remove: () => this.delete([key]),
    });
  }

  putJson(key: string, value: unknown): Promise<ObjectInfo> {
    return writeJson(this, key, value);
  }

  async getJson<T>(key: string): Promise<T | undefined> {
    const file = this.file(key);
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw this.failure('read', key, error);
    }
    return parseJson<T>(this.description, key, text);
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const file = this.file(key);
    try {
      const stat = await fs.stat(file);
      return stat.isFile() ? { key, bytes: stat.size, modified: stat.mtime } : undefined;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw this.failure('look up', key, error);
    }
  }

  read(key: string): Readable {
    const file = this.file(key);
    const failure = (error: unknown) =>
      isMissing(error)
        ? new DestinationError(`${this.description}: there is no object '${key}'.`, { retryable: false })
        : this.failure('read', key, error);
    return Readable.from(
      (async function* () {
        let handle: FileHandle;
        try {
          handle = await fs.open(file, 'r');
        } catch (error) {
          throw failure(error);
        }
        try {
          for (;;) {
            const buffer = Buffer.allocUnsafe(CHUNK);
            const { bytesRead } = await handle.read(buffer, 0, CHUNK, null);
            if (bytesRead === 0) return;
            yield buffer.subarray(0, bytesRead);
          }
        } catch (error) {
          throw failure(error);
        } finally {
          await handle.close();
        }
      })(),
      { objectMode: false },
    );
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    checkPrefix(this.description, prefix);
    const slash = prefix.lastIndexOf('/');
    yield* this.walk(slash >= 0 ? prefix.slice(0, slash) : '', prefix);
  }

  async sweep(prefix: string): Promise<number> {
    checkPrefix(this.description, prefix);
    const slash = prefix.lastIndexOf('/');
    const temps: string[] = [];
    for await (const temp of this.walk(slash >= 0 ? prefix.slice(0, slash) : '', prefix, true)) temps.push(temp.key);
    await this.delete(temps);
    return temps.length;
  }

  async delete(keys: readonly string[]): Promise<void> {
    const files = keys.map((key) => ({ key, file: this.file(key) }));
    await mapLimit(files, 16, async ({ key, file }) => {
      try {
        await fs.rm(file, { force: true });
      } catch (error) {
        throw this.failure('delete', key, error);
      }
      // Folders left empty go too (a deleted version leaves no `v=<runId>/`), never the destination folder itself.
      for (let folder = path.dirname(file); folder !== this.folder && folder.startsWith(this.folder + path.sep); folder = path.dirname(folder)) {
        try {
          await fs.rmdir(folder);
        } catch {
          break;
        }
      }
    });
  }

  /**
   * Objects under the folder of `dirKey` ('' for the root) whose key starts with `prefix`, in UTF-8 key order; with
   * `temps`, the temp files of unfinished writes instead.
   */
  private async *walk(dirKey: string, prefix: string, temps = false): AsyncGenerator<ObjectInfo> {
    const folder = dirKey === '' ? this.folder : path.join(this.folder, ...dirKey.split('/'));
    let entries: { name: string; dir: boolean; order: Buffer }[];
    try {
      entries = (await fs.readdir(folder, { withFileTypes: true }))
        .filter((entry) => entry.isDirectory() || (entry.isFile() && TEMP_FILE.test(entry.name) === temps))
        .map((entry) => ({ name: entry.name, dir: entry.isDirectory(), order: Buffer.from(entry.isDirectory() ? `${entry.name}/` : entry.name) }));
    } catch (error) {
      if (isMissing(error)) return;
      throw this.failure('list', dirKey === '' ? prefix : `${dirKey}/`, error);
    }
    entries.sort((a, b) => Buffer.compare(a.order, b.order));
    for (const entry of entries) {
      const key = dirKey === '' ? entry.name : `${dirKey}/${entry.name}`;
      if (entry.dir) {
        if (`${key}/`.startsWith(prefix) || prefix.startsWith(`${key}/`)) yield* this.walk(key, prefix, temps);
      } else if (key.startsWith(prefix)) {
        const stat = await fs.stat(path.join(folder, entry.name)).catch(() => undefined);
        if (stat) yield { key, bytes: stat.size, modified: stat.mtime };
      }
    }
  }

  private file(key: string): string {
    checkKey(this.description, key);
    const file = path.join(this.folder, ...key.split('/'));
    const inside = this.folder.endsWith(path.sep) ? this.folder : this.folder + path.sep;
    if (!file.startsWith(inside)) {
      throw new DestinationError(`${this.description}: the key ${JSON.stringify(key)} would leave the folder.`, { retryable: false });
    }
    return file;
  }

  private failure(action: string, key: string, error: unknown): DestinationError {
    if (error instanceof DestinationError) return error;
    const code = (error as NodeJS.ErrnoException)?.code;
    const fatal = code !== undefined && ['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'EISDIR', 'EEXIST'].includes(code);
    const hint = code === 'EACCES' || code === 'EPERM' ? ' Check that the user running lastmile may write the folder.' : '';
    return new DestinationError(`${this.description}: could not ${action} '${key}': ${(error as Error)?.message ?? String(error)}.${hint}`, {
      retryable: !fatal,
    });
  }
}

/** A temp file: counts and hashes the bytes, fsyncs and closes on end; closes on destroy. */
class FileSink extends Writable {
  bytes = 0;
  sha256 = '';
  private readonly hash = createHash('sha256');
  private handle: FileHandle | undefined;

  constructor(private readonly temp: string) {
    super({ highWaterMark: CHUNK });
  }

  override _construct(callback: (error?: Error | null) => void): void {
    const open = async (): Promise<FileHandle> => {
      // A concurrent delete may remove the folder just made empty: make it again.
      for (let attempt = 1; ; attempt++) {
        await fs.mkdir(path.dirname(this.temp), { recursive: true });
        try {
          return await fs.open(this.temp, 'wx');
        } catch (error) {
          if (attempt >= 3 || (error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        }
      }
    };
    open().then((handle) => {
      this.handle = handle;
      callback();
    }, callback);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.append(chunk, callback);
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    this.append(chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map((c) => c.chunk)), callback);
  }

  private append(chunk: Buffer, callback: (error?: Error | null) => void): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    writeAll(this.handle!, chunk).then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.sha256 = this.hash.digest('hex');
    const handle = this.handle!;
    this.handle = undefined;
    handle
      .sync()
      .finally(() => handle.close())
      .then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const handle = this.handle;
    this.handle = undefined;
    if (!handle) return callback(error);
    handle.close().then(
      () => callback(error),
      () => callback(error),
    );
  }
}

async function writeAll(handle: FileHandle, buffer: Buffer): Promise<void> {
  for (let offset = 0; offset < buffer.length; ) {
    const { bytesWritten } = await handle.write(buffer, offset, buffer.length - offset, null);
    offset += bytesWritten;
  }
}

/** fsync a folder so a rename in it survives a crash; some platforms cannot, which is fine. */
async function syncFolder(folder: string): Promise<void> {
  const handle = await fs.open(folder, 'r').catch(() => undefined);
  if (!handle) return;
  await handle.sync().catch(() => undefined);
  await handle.close().catch(() => undefined);
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
