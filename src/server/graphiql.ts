/**
 * GraphiQL from bundled assets. Yoga's default page loads its scripts and styles from a CDN, so on a
 * machine without internet it shows "Loading…" forever; @graphql-yoga/render-graphiql inlines them
 * (about 9 MB of HTML). The module is imported on the first page asked for (production never loads it)
 * and the page is rendered once per set of options.
 */
import type { GraphiQLOptions } from 'graphql-yoga';

export function bundledGraphiQL(): (options: GraphiQLOptions) => Promise<string> {
  let rendered: { key: string; html: string } | undefined;
  return async (options) => {
    const key = JSON.stringify(options);
    if (rendered?.key !== key) {
      const { renderGraphiQL } = await import('@graphql-yoga/render-graphiql');
      rendered = { key, html: renderGraphiQL(options) };
    }
    return rendered.html;
  };
}
