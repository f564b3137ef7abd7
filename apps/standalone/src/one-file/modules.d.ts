// The compression worker bundled into one CommonJS script, provided by tsup.config.ts.
declare module "compression-worker-source" {
  const source: string;
  export default source;
}
