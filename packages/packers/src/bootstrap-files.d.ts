// Text files imported with `?raw` (inlined by the build, read by Vite in tests).
declare module "*?raw" {
  const text: string;
  export default text;
}
