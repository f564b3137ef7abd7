/**
 * Loads the optional `kerberos` addon as this package sees it (installed beside it). One-file builds replace this
 * module with one that looks beside the executable, where an addon compiled for its Node can be put.
 */
export const importKerberosAddon = (): Promise<unknown> => import("kerberos");
