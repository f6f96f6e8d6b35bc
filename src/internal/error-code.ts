/**
 * The `code` of every error the library throws on purpose, so a program can
 * tell them apart without parsing messages: `err.code === ErrorCode.PROPS`
 * in TypeScript and JavaScript. (In Python, Java, .NET and Go the error
 * arrives as the language's own runtime error carrying the same message.)
 */
export enum ErrorCode {
  /** Props a construct cannot honour (the message names the construct path, the field, the value and what is allowed). */
  PROPS = 'ERP_K8S_PROPS',
  /** The policy gate found error-severity violations (`Policy.enforce`). */
  POLICY = 'ERP_K8S_POLICY',
  /** Objects that do not match the Kubernetes schema (`ManifestSchema.enforce`). */
  SCHEMA = 'ERP_K8S_SCHEMA',
}
