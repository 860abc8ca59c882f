/** What every paged list answers (docs/api/cairn.md "Paging"). */
export interface PageBody<T> {
  items: T[];
  nextCursor: string | null;
  total?: number;
}

/** Fetches the page at `cursor` (undefined: the first page). */
export type PageFetcher<T> = (cursor: string | undefined) => Promise<PageBody<T>>;

/** One page of a list, able to fetch the next one. */
export class CursorPage<T> implements AsyncIterable<T> {
  readonly items: T[];
  readonly nextCursor: string | null;
  /** Items matching the query on every page, where the endpoint counts them. */
  readonly total: number | undefined;

  constructor(
    private readonly fetcher: PageFetcher<T>,
    body: PageBody<T>,
  ) {
    this.items = body.items;
    this.nextCursor = body.nextCursor;
    this.total = body.total;
  }

  hasNextPage(): boolean {
    return this.nextCursor !== null && this.nextCursor !== undefined;
  }

  async getNextPage(): Promise<CursorPage<T>> {
    if (!this.hasNextPage()) throw new Error('no next page: check hasNextPage() first');
    return new CursorPage(this.fetcher, await this.fetcher(this.nextCursor ?? undefined));
  }

  /** This page and every one after it. */
  async *pages(): AsyncGenerator<CursorPage<T>> {
    let page: CursorPage<T> = this;
    yield page;
    while (page.hasNextPage()) {
      page = await page.getNextPage();
      yield page;
    }
  }

  /** Every item of this page and the ones after it. */
  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for await (const page of this.pages()) yield* page.items;
  }
}

/**
 * A list call: `await` it for the first page, or `for await` over it for every item of every
 * page (fetched one page at a time, as the loop goes). The request starts when first needed.
 */
export class PagePromise<T> implements PromiseLike<CursorPage<T>>, AsyncIterable<T> {
  private first: Promise<CursorPage<T>> | undefined;

  constructor(private readonly fetcher: PageFetcher<T>) {}

  private firstPage(): Promise<CursorPage<T>> {
    this.first ??= this.fetcher(undefined).then((body) => new CursorPage(this.fetcher, body));
    return this.first;
  }

  // biome-ignore lint/suspicious/noThenProperty: a PagePromise is awaitable on purpose (openai-node's pattern).
  then<A = CursorPage<T>, B = never>(
    onfulfilled?: ((value: CursorPage<T>) => A | PromiseLike<A>) | null,
    onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.firstPage().then(onfulfilled, onrejected);
  }

  catch<B = never>(onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<CursorPage<T> | B> {
    return this.firstPage().catch(onrejected);
  }

  finally(onfinally?: (() => void) | null): Promise<CursorPage<T>> {
    return this.firstPage().finally(onfinally);
  }

  /** Every page, the first one included. */
  async *pages(): AsyncGenerator<CursorPage<T>> {
    yield* (await this.firstPage()).pages();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    yield* await this.firstPage();
  }
}
