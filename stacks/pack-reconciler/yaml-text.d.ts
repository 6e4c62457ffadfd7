/** YAML files bundled as text (esbuild's `text` loader), as the pack reconciler imports the pack. */
declare module '*.yaml' {
  const text: string;
  export default text;
}
