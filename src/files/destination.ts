/**
 * Where the files of a `files` target go: a local folder or an S3-compatible bucket, behind one small interface.
 * Objects are addressed by keys relative to the destination's root ('v=<runId>/invoices-0001.csv'); a key never
 * leaves the root. An object written with `write` appears only once `done()` resolves, whole; on `abort()` nothing
 * appears. Errors name the destination and the key, never a credential.
 */
import { DestinationError } from './destinations/common.js';
import type { Destination } from './destinations/types.js';
import { LocalDestination } from './destinations/local.js';

export { DestinationError, checkKey, checkPrefix } from './destinations/common.js';
export type { Destination, ObjectInfo, ObjectWrite, WriteOptions } from './destinations/types.js';

export interface DestinationTarget {
  /** A folder relative to the project root (`./exchange/invoices`), or `s3://bucket/prefix`. */
  to: string;
  /** S3-compatible store URL when it is not AWS, e.g. `http://minio.internal:9000`. */
  endpoint?: string;
  /** default `us-east-1` */
  region?: string;
  /** resolved values (never logged); without them the default AWS credential chain applies */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/** The destination of a target; the S3 client (a few hundred modules) loads only for an s3:// destination. */
export async function openDestination(target: DestinationTarget, options: { root: string }): Promise<Destination> {
  const to = target.to.trim();
  if (to.startsWith('s3://')) {
    const { S3Destination, parseBucketUrl } = await import('./destinations/s3.js');
    return new S3Destination({ ...parseBucketUrl(to), endpoint: target.endpoint, region: target.region, credentials: target.credentials });
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(to)) {
    throw new DestinationError(
      `The destination '${to.replace(/\/\/[^/@]*@/, '//')}' is neither a folder nor an s3:// bucket URL. ` +
        `Use a folder relative to the project root (e.g. './exchange/invoices') or 's3://bucket/prefix' (with \`endpoint\` for MinIO, R2 and other S3-compatible stores).`,
      { retryable: false },
    );
  }
  if (to === '') {
    throw new DestinationError(`The destination folder is empty. Name a folder relative to the project root, e.g. './exchange/invoices'.`, {
      retryable: false,
    });
  }
  if (target.endpoint !== undefined || target.credentials !== undefined) {
    throw new DestinationError(
      `The destination '${to}' is a local folder, so \`endpoint\` and \`credentials\` do not apply. ` +
        `Remove them, or make \`to\` an s3:// bucket URL.`,
      { retryable: false },
    );
  }
  return new LocalDestination(to, options.root);
}

