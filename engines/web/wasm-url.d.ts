// Vite's "?url" imports give the URL of a file it copies into the build.
declare module '*?url' {
  const url: string;
  export default url;
}
