/**
 * The parsed-document cache, in place of Yoga's (1,024 documents of any size for an hour, those that
 * failed validation or the limits included). A document is cached only once it has passed validation,
 * and only the documents clients keep sending stay: an LRU bounded by entry count and by an estimate of
 * the bytes each holds (its text and its tokens, which the parsed AST keeps). A cached document skips
 * parsing and, under the same validation rules, validation.
 */
import type { DocumentNode, Token, ValidationRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';

export interface ParseCacheLimits {
  maxEntries: number;
  maxBytes: number;
}

/** a token with its AST nodes and location objects, roughly, in V8 */
const BYTES_PER_TOKEN = 400;

interface Entry {
  document: DocumentNode;
  bytes: number;
  /** the validation rule sets (by their names) the document passed */
  validWith: Set<string>;
}

export class DocumentCache {
  readonly #entries = new Map<string, Entry>();
  #bytes = 0;

  constructor(readonly limits: ParseCacheLimits) {}

  get size(): number {
    return this.#entries.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get(source: string): Entry | undefined {
    const entry = this.#entries.get(source);
    if (entry) {
      this.#entries.delete(source);
      this.#entries.set(source, entry);
    }
    return entry;
  }

  add(source: string, document: DocumentNode, rules: string): void {
    const found = this.#entries.get(source);
    if (found) {
      found.validWith.add(rules);
      return;
    }
    const bytes = 2 * source.length + BYTES_PER_TOKEN * tokenCount(document);
    if (bytes > this.limits.maxBytes || this.limits.maxEntries === 0) return;
    this.#entries.set(source, { document, bytes, validWith: new Set([rules]) });
    this.#bytes += bytes;
    for (const [key, entry] of this.#entries) {
      if (this.#entries.size <= this.limits.maxEntries && this.#bytes <= this.limits.maxBytes) break;
      this.#entries.delete(key);
      this.#bytes -= entry.bytes;
    }
  }
}

export function useBoundedParseCache(cache: DocumentCache): Plugin {
  // documents parsed for a request, by the text they came from, until validation says whether to keep them
  const parsed = new WeakMap<DocumentNode, string>();
  return {
    onParse({ params, setParsedDocument }) {
      const source = typeof params.source === 'string' ? params.source : params.source.body;
      const cached = cache.get(source);
      if (cached) {
        setParsedDocument(cached.document);
        return;
      }
      return ({ result }) => {
        if (result && !(result instanceof Error)) parsed.set(result, source);
      };
    },
    onValidate({ params, setResult }) {
      const { documentAST } = params;
      const rules = params.rules?.map((rule: ValidationRule) => rule.name).join(',') ?? '';
      const source = parsed.get(documentAST);
      const cached = source === undefined ? cachedSource(cache, documentAST) : undefined;
      if (cached?.entry.validWith.has(rules)) {
        setResult([]);
        return;
      }
      return ({ valid }) => {
        if (!valid) return;
        const text = source ?? cached?.source;
        if (text !== undefined) cache.add(text, documentAST, rules);
      };
    },
  };
}

/** the cache entry whose document this is (documents taken from the cache carry their text in loc) */
function cachedSource(cache: DocumentCache, document: DocumentNode): { source: string; entry: Entry } | undefined {
  const source = document.loc?.source.body;
  if (source === undefined) return undefined;
  const entry = cache.get(source);
  return entry?.document === document ? { source, entry } : undefined;
}

function tokenCount(document: DocumentNode): number {
  let count = 0;
  for (let token: Token | null | undefined = document.loc?.startToken; token; token = token.next) count++;
  return count;
}
