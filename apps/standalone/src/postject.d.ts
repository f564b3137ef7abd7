// postject ships no types: the one function used here.
declare module "postject" {
  export function inject(
    file: string,
    resourceName: string,
    resourceData: Buffer,
    options?: { sentinelFuse?: string; overwrite?: boolean; machoSegmentName?: string },
  ): Promise<void>;
}
