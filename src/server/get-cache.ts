import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { ApolloServerPluginCacheControl } from '@apollo/server/plugin/cacheControl';

/**
 * HTTP caching of GraphQL responses. Only GET responses may be cached: Apollo runs nothing but
 * queries over GET (405 for mutations), and the URL is the whole request, so a CDN or browser can
 * key on it. A response to a request that carries credentials is `private` (never in a shared
 * cache), and every GET response varies by the negotiated media type and the credentials.
 * `maxAge` 0 keeps everything `no-store`, the default: a cached page can show a post for up to
 * `maxAge` seconds after moderation removed it, which an operator should choose knowingly.
 */
export function getCachePlugins(maxAge: number): ApolloServerPlugin<BaseContext>[] {
  return [
    {
      async requestDidStart({ request }) {
        const isGet = request.http?.method === 'GET';
        const withCredentials = request.http?.headers.has('authorization') ?? false;
        return {
          // Settled before execution, so Apollo skips collecting per-field hints for the request.
          async didResolveOperation({ overallCachePolicy }) {
            if (!isGet) overallCachePolicy.restrict({ maxAge: 0 });
          },
          // Only after execution: a scope set earlier would make Apollo treat the policy as final.
          // Runs before the cache-control plugin's own hook, which writes the header.
          async willSendResponse({ response, overallCachePolicy }) {
            if (!isGet) return;
            if (withCredentials) overallCachePolicy.restrict({ scope: 'PRIVATE' });
            response.http.headers.set('vary', 'accept, authorization');
          },
        };
      },
    },
    ApolloServerPluginCacheControl({ defaultMaxAge: maxAge }),
  ];
}
