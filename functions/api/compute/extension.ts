/** What every v3 extension declares about itself; `GET /v3/extensions` lists these. */
export interface ExtensionInfo {
  alias: string;
  name: string;
  description: string;
  /** Goes up whenever the extension's contract changes. */
  version: number;
  /** Core extensions cannot be disabled. */
  core: boolean;
}
