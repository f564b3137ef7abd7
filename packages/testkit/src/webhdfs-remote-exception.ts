/** Hadoop exception classes the test server raises, by the short name WebHDFS puts in `exception`. */
const javaClassNames = {
  AccessControlException: "org.apache.hadoop.security.AccessControlException",
  AuthorizationException: "org.apache.hadoop.security.authorize.AuthorizationException",
  FileAlreadyExistsException: "org.apache.hadoop.fs.FileAlreadyExistsException",
  FileNotFoundException: "java.io.FileNotFoundException",
  IllegalArgumentException: "java.lang.IllegalArgumentException",
  InvalidPathException: "org.apache.hadoop.fs.InvalidPathException",
  InvalidToken: "org.apache.hadoop.security.token.SecretManager$InvalidToken",
  IOException: "java.io.IOException",
  ParentNotDirectoryException: "org.apache.hadoop.fs.ParentNotDirectoryException",
  PathIsNotEmptyDirectoryException: "org.apache.hadoop.fs.PathIsNotEmptyDirectoryException",
  RuntimeException: "java.lang.RuntimeException",
  SecurityException: "java.lang.SecurityException",
  StandbyException: "org.apache.hadoop.ipc.StandbyException",
  UnsupportedOperationException: "java.lang.UnsupportedOperationException",
} as const;

export type HadoopExceptionName = keyof typeof javaClassNames;

/**
 * HTTP status by exception class, per the WebHDFS docs ("Error Responses"): IllegalArgumentException and
 * UnsupportedOperationException 400, SecurityException 401, IOException (and its subclasses) 403,
 * FileNotFoundException 404, RuntimeException 500.
 */
const statusByException: Partial<Record<HadoopExceptionName, number>> = {
  IllegalArgumentException: 400,
  InvalidPathException: 400,
  UnsupportedOperationException: 400,
  SecurityException: 401,
  FileNotFoundException: 404,
  RuntimeException: 500,
};

/** An error the server answers as `{"RemoteException": {exception, javaClassName, message}}`. */
export class RemoteException extends Error {
  readonly exception: HadoopExceptionName;
  readonly status: number;

  constructor(exception: HadoopExceptionName, message: string) {
    super(message);
    this.exception = exception;
    this.status = statusByException[exception] ?? 403;
  }

  toJSON() {
    return {
      RemoteException: {
        exception: this.exception,
        javaClassName: javaClassNames[this.exception],
        message: this.message,
      },
    };
  }
}
