/**
 * An S3-compatible bucket as a destination (AWS, MinIO, Ceph, R2…). Objects are written with a streaming multipart
 * upload, which S3 makes visible only when it completes; an aborted upload leaves nothing. The sha256 of the bytes
 * is known only at the end of a stream, so when it was not given up front the finished object is copied onto itself
 * with the `sha256` metadata (a server-side copy; nobody reads an unpublished version's objects meanwhile).
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
  UploadPartCopyCommand,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createHash } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import type { Destination, ObjectInfo, ObjectWrite, WriteOptions } from './types.js';
import { DestinationError, checkKey, checkPrefix, parseJson, stagedWrite, writeJson } from './common.js';

/** Upload parts: 8 MiB each, three in flight — about 32 MiB of memory per file being written. */
const PART_SIZE = 8 * 1024 * 1024;
const PARTS_IN_FLIGHT = 3;
/** The largest object one CopyObject copies; larger ones are copied part by part. */
const MAX_SINGLE_COPY = 5 * 1024 * 1024 * 1024;
const COPY_PART_SIZE = 1024 * 1024 * 1024;
/** SigV4 presigned URLs last at most 7 days. */
const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;
/** Error codes no retry fixes. */
const FATAL = new Set(['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'NoSuchBucket', 'InvalidBucketName', 'AuthorizationHeaderMalformed']);

export interface S3Location {
  bucket: string;
  /** '' or ending in '/' */
  prefix: string;
}

/** `s3://bucket/some/prefix/` → bucket and prefix; a non-retryable error naming the URL when it is not one. */
export function parseBucketUrl(url: string): S3Location {
  const match = /^s3:\/\/([^/]*)\/?(.*)$/.exec(url);
  const bucket = match?.[1] ?? '';
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new DestinationError(
      `The destination '${url}' does not name a bucket: write 's3://<bucket>/<prefix>' with a bucket name of 3 to 63 ` +
        `lower-case letters, digits, '.' and '-'.`,
      { retryable: false },
    );
  }
  const prefix = (match?.[2] ?? '').replace(/\/+$/, '');
  if (prefix !== '') checkKey(`The destination '${url}'`, prefix);
  return { bucket, prefix: prefix === '' ? '' : `${prefix}/` };
}

export interface S3DestinationOptions extends S3Location {
  endpoint?: string;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

export class S3Destination implements Destination {
  readonly description: string;
  readonly bucket: string;
  readonly prefix: string;
  private readonly client: S3Client;
  private readonly secrets: string[];

  constructor(options: S3DestinationOptions) {
    this.bucket = options.bucket;
    this.prefix = options.prefix;
    const endpoint = options.endpoint === undefined ? undefined : publicEndpoint(options.endpoint);
    this.description = `s3://${this.bucket}/${this.prefix.replace(/\/$/, '')}${endpoint ? ` (endpoint ${endpoint})` : ''}`;
    this.secrets = [options.credentials?.secretAccessKey, options.credentials?.accessKeyId].filter((s): s is string => !!s && s.length >= 4);
    const config: S3ClientConfig = {
      region: options.region ?? 'us-east-1',
      credentials: options.credentials,
      maxAttempts: 5,
    };
    if (options.endpoint !== undefined) {
      config.endpoint = options.endpoint;
      // S3-compatible stores: bucket in the path, and only the checksums every store understands.
      config.forcePathStyle = true;
      config.requestChecksumCalculation = 'WHEN_REQUIRED';
      config.responseChecksumValidation = 'WHEN_REQUIRED';
    }
    this.client = new S3Client(config);
  }

  write(key: string, options: WriteOptions = {}): ObjectWrite {
    checkKey(this.description, key);
    const body = new HashingPassThrough();
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.bucket,
        Key: this.prefix + key,
        Body: body,
        ContentType: options.contentType,
        Metadata: options.sha256 === undefined ? undefined : { sha256: options.sha256 },
      },
      partSize: PART_SIZE,
      queueSize: PARTS_IN_FLIGHT,
    });
    // Started at once so the stream drains; settles after a failed multipart upload was aborted at the store.
    const uploading = upload.done();
    const settled = uploading.then(
      () => true,
      () => false,
    );
    const remove = () => this.delete([key]);
    return stagedWrite(body, `${this.description}, key '${key}'`, {
      commit: async () => {
        try {
          await uploading;
        } catch (error) {
          if (!body.destroyed) body.destroy();
          throw this.failure('upload', key, error);
        }
        try {
          if (options.sha256 !== undefined && options.sha256 !== body.sha256) {
            throw new DestinationError(
              `${this.description}: the bytes written for '${key}' have sha256 ${body.sha256}, not the expected ${options.sha256}; nothing was written.`,
            );
          }
          const modified = options.sha256 === undefined ? await this.setSha256(key, body.bytes, body.sha256, options.contentType) : new Date();
          return { key, bytes: body.bytes, sha256: body.sha256, modified };
        } catch (error) {
          await remove().catch(() => undefined);
          throw this.failure('upload', key, error);
        }
      },
      discard: async () => {
        if (await settled) await remove();
      },
      remove,
    });
  }

  putJson(key: string, value: unknown): Promise<ObjectInfo> {
    return writeJson(this, key, value);
  }

  async getJson<T>(key: string): Promise<T | undefined> {
    checkKey(this.description, key);
    let text: string;
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
      text = await response.Body!.transformToString('utf8');
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw this.failure('read', key, error);
    }
    return parseJson<T>(this.description, key, text);
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    checkKey(this.description, key);
    try {
      const response = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
      return {
        key,
        bytes: response.ContentLength ?? 0,
        sha256: response.Metadata?.sha256,
        modified: response.LastModified ?? new Date(0),
      };
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw this.failure('look up', key, error);
    }
  }

  read(key: string): Readable {
    checkKey(this.description, key);
    const fetch = async () => {
      try {
        const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
        return response.Body as Readable;
      } catch (error) {
        throw isMissing(error)
          ? new DestinationError(`${this.description}: there is no object '${key}'.`, { retryable: false })
          : this.failure('read', key, error);
      }
    };
    const failure = (error: unknown) => this.failure('read', key, error);
    return Readable.from(
      (async function* () {
        const body = await fetch();
        try {
          for await (const chunk of body) yield chunk as Buffer;
        } catch (error) {
          throw failure(error);
        }
      })(),
      { objectMode: false },
    );
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    checkPrefix(this.description, prefix);
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix + prefix, ContinuationToken: token }),
        );
      } catch (error) {
        throw this.failure('list', prefix, error);
      }
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined || !object.Key.startsWith(this.prefix)) continue;
        yield { key: object.Key.slice(this.prefix.length), bytes: object.Size ?? 0, modified: object.LastModified ?? new Date(0) };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) checkKey(this.description, key);
    for (let start = 0; start < keys.length; start += 1000) {
      const batch = keys.slice(start, start + 1000);
      let errors;
      try {
        const response = await this.client.send(
          new DeleteObjectsCommand({
            Bucket: this.bucket,
            Delete: { Objects: batch.map((key) => ({ Key: this.prefix + key })), Quiet: true },
          }),
        );
        errors = (response.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
      } catch (error) {
        throw this.failure('delete', batch.length === 1 ? batch[0]! : `${batch[0]}' and ${batch.length - 1} more '`, error);
      }
      if (errors.length > 0) {
        const first = errors[0]!;
        throw new DestinationError(
          `${this.description}: could not delete ${errors.length} of ${batch.length} objects, e.g. '${(first.Key ?? '').slice(this.prefix.length)}': ` +
            `${first.Code ?? 'error'}: ${this.redact(first.Message ?? '')}`,
          { retryable: !FATAL.has(first.Code ?? '') },
        );
      }
    }
  }

  async sweep(prefix: string): Promise<number> {
    checkPrefix(this.description, prefix);
    let aborted = 0;
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(
          new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: this.prefix + prefix, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }),
        );
      } catch (error) {
        // Some S3-compatible stores cannot list uploads; a lifecycle rule (AbortIncompleteMultipartUpload) covers them.
        if ((error as { name?: string }).name === 'NotImplemented') return aborted;
        throw this.failure('list the unfinished uploads under', prefix, error);
      }
      for (const upload of page.Uploads ?? []) {
        if (!upload.Key || !upload.UploadId) continue;
        try {
          await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: upload.Key, UploadId: upload.UploadId }));
          aborted++;
        } catch (error) {
          if ((error as { name?: string }).name !== 'NoSuchUpload') throw this.failure('abort the unfinished upload of', upload.Key.slice(this.prefix.length), error);
        }
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
    } while (keyMarker);
    return aborted;
  }

  async presign(key: string, expiresInSeconds: number): Promise<string> {
    checkKey(this.description, key);
    if (!Number.isInteger(expiresInSeconds) || expiresInSeconds < 1 || expiresInSeconds > MAX_PRESIGN_SECONDS) {
      throw new DestinationError(
        `${this.description}: a download link for '${key}' must expire after a whole number of seconds from 1 to 7 days (${MAX_PRESIGN_SECONDS}), not ${expiresInSeconds}.`,
        { retryable: false },
      );
    }
    try {
      return await getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }), { expiresIn: expiresInSeconds });
    } catch (error) {
      throw this.failure('sign a link to', key, error);
    }
  }

  /** Copies the object onto itself with `sha256` metadata; returns its new modification time. */
  private async setSha256(key: string, bytes: number, sha256: string, contentType: string | undefined): Promise<Date> {
    const target = { Bucket: this.bucket, Key: this.prefix + key, ContentType: contentType, Metadata: { sha256 } };
    const source = `${this.bucket}/${copySourceKey(this.prefix + key)}`;
    if (bytes <= MAX_SINGLE_COPY) {
      const response = await this.client.send(new CopyObjectCommand({ ...target, CopySource: source, MetadataDirective: 'REPLACE' }));
      return response.CopyObjectResult?.LastModified ?? new Date();
    }
    // Over 5 GiB one copy cannot do it: a multipart upload whose parts are ranges of the object itself.
    const created = await this.client.send(new CreateMultipartUploadCommand(target));
    const uploadId = created.UploadId!;
    try {
      const parts: { ETag: string; PartNumber: number }[] = [];
      const partSize = Math.max(COPY_PART_SIZE, Math.ceil(bytes / 10_000));
      for (let start = 0, number = 1; start < bytes; start += partSize, number++) {
        const end = Math.min(start + partSize, bytes) - 1;
        const part = await this.client.send(
          new UploadPartCopyCommand({
            Bucket: this.bucket,
            Key: this.prefix + key,
            UploadId: uploadId,
            PartNumber: number,
            CopySource: source,
            CopySourceRange: `bytes=${start}-${end}`,
          }),
        );
        parts.push({ ETag: part.CopyPartResult!.ETag!, PartNumber: number });
      }
      await this.client.send(
        new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: this.prefix + key, UploadId: uploadId, MultipartUpload: { Parts: parts } }),
      );
      return new Date();
    } catch (error) {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: this.prefix + key, UploadId: uploadId })).catch(() => undefined);
      throw error;
    }
  }

  private failure(action: string, key: string, error: unknown): DestinationError {
    if (error instanceof DestinationError) return error;
    const e = error as { name?: string; message?: string; Code?: string; code?: string; $metadata?: { httpStatusCode?: number } };
    const code = e?.Code ?? e?.name ?? e?.code ?? 'Error';
    const status = e?.$metadata?.httpStatusCode;
    const hint =
      code === 'InvalidAccessKeyId' || code === 'SignatureDoesNotMatch' || code === 'AccessDenied'
        ? ' Check the access key pair given for this target (by environment variable) and its permissions on the bucket.'
        : code === 'NoSuchBucket'
          ? ' Create the bucket, or correct the bucket name in `to`.'
          : /ECONNREFUSED|ENOTFOUND|EAI_AGAIN/.test(`${e?.code} ${e?.message}`)
            ? ' Is the endpoint right and the store running?'
            : '';
    const message = this.redact(`${e?.message ?? String(error)}`);
    return new DestinationError(
      `${this.description}: could not ${action} '${key}': ${code}${status ? ` (HTTP ${status})` : ''}: ${message}${hint}`,
      { retryable: !FATAL.has(code) },
    );
  }

  private redact(text: string): string {
    let out = text;
    for (const secret of this.secrets) out = out.split(secret).join('***');
    return out;
  }
}

/** Counts and hashes what passes through: the upload's body. */
class HashingPassThrough extends Transform {
  bytes = 0;
  sha256 = '';
  private readonly hash = createHash('sha256');

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.sha256 = this.hash.digest('hex');
    callback();
  }
}

/** The endpoint for messages: scheme, host and path, no user info or query. */
function publicEndpoint(endpoint: string): string {
  try {
    const url = new URL(endpoint);
    return `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}`;
  } catch {
    return '(an endpoint that is not a URL)';
  }
}

/** URL-encodes a key for `x-amz-copy-source`, leaving the sub-delimiters S3 keys commonly hold ('=' of `v=<runId>`). */
function copySourceKey(key: string): string {
  return key
    .split('/')
    .map((segment) => encodeURIComponent(segment).replace(/%(3D|3A|40|2C|24|26|3B)/g, (s) => decodeURIComponent(s)))
    .join('/');
}

function isMissing(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  // HEAD has no body, so a missing bucket is a 404 `NotFound` as well; writes then fail naming `NoSuchBucket`.
  return e?.name === 'NoSuchKey' || (e?.name !== 'NoSuchBucket' && e?.$metadata?.httpStatusCode === 404);
}
