// s3rver 3.7 ships no types; this covers the part of its API the testkit uses.
declare module "s3rver" {
  import type { IncomingMessage, ServerResponse } from "node:http";

  interface S3rverOptions {
    silent?: boolean;
    directory?: string;
    configureBuckets?: { name: string; configs?: (string | Buffer)[] }[];
  }

  class S3rver {
    constructor(options?: S3rverOptions);
    /** The Koa request listener, to mount in a server of our own. */
    callback(): (request: IncomingMessage, response: ServerResponse) => void;
    configureBuckets(): Promise<void>;
    store: {
      /** On-disk path of a bucket's (or object's) resource, e.g. the "uploads" directory of a bucket. */
      getResourcePath(bucket: string, key: string | undefined, resource: string): string;
      /** On-disk directory of a bucket. */
      getBucketPath(bucket: string): string;
      existsObject(bucket: string, key: string): Promise<boolean>;
    };
  }

  export = S3rver;
}
