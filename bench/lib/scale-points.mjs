/** The synthetic points of `--scale`: `default` (100 MB, 400 MB), `all` (up to 5 GB), `none`, or `FILES:MB,…`. */
export function scalePoints(spec) {
  if (spec === "none") return [];
  const text =
    spec === "default"
      ? "1000:100,10000:400"
      : spec === "all"
        ? "1000:100,10000:400,50000:1000,200000:5000"
        : spec;
  return text.split(",").map((pair) => {
    const [files, mb] = pair.split(":").map(Number);
    if (!files || !mb) throw new Error(`--scale: "${pair}" is not FILES:MB`);
    return { files, mb };
  });
}
