/**
 * The file a Kerberos credential cache name (`KRB5CCNAME`) points at: `FILE:/tmp/krb5cc_1000` or a bare path.
 * Other cache types (`KEYRING:`, `KCM:`, `DIR:`, `MEMORY:`, `API:`) live outside the file system and cannot be
 * shipped: undefined.
 */
export function ticketCacheFile(krb5ccname: string | undefined): string | undefined {
  if (!krb5ccname) return undefined;
  if (krb5ccname.startsWith("FILE:")) return krb5ccname.slice("FILE:".length) || undefined;
  if (/^[A-Za-z]+:/.test(krb5ccname)) return undefined;
  return krb5ccname;
}

/** The name the shipped ticket cache has in the container. */
export const TICKET_CACHE_NAME = "krb5cc";
