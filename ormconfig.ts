import 'reflect-metadata';
import { DataSource, type DataSourceOptions, type Logger as OrmLogger } from 'typeorm';
import { databaseUrlFromEnv } from './src/config';
import { CoreSchema1795305600000 } from './migrations/1795305600000-CoreSchema';
import { Moderation1795392000000 } from './migrations/1795392000000-Moderation';
import { Feeds1795478400000 } from './migrations/1795478400000-Feeds';
import { ApiTokens1795568406000 } from './migrations/1795568406000-ApiTokens';
import { PostEmbeddings1795571234000 } from './migrations/1795571234000-PostEmbeddings';
import { FeedIndexes1795657600000 } from './migrations/1795657600000-FeedIndexes';
import { MemberFeedVersions1795744000000 } from './migrations/1795744000000-MemberFeedVersions';
import { ModerationStatusEntity } from './src/modules/moderation/moderation-status.entity';
import { PostEntity } from './src/modules/posts/post.entity';
import { BookmarkEntity, PostTagEntity, TagFollowEntity, UserFollowEntity, VoteEntity } from './src/modules/social/social.entities';
import { TagEntity } from './src/modules/tags/tag.entity';
import { UserEntity } from './src/modules/users/user.entity';
import { ApiTokenEntity } from './src/modules/access/api-token.entity';

export const entities = [UserEntity, TagEntity, PostEntity, PostTagEntity, VoteEntity, BookmarkEntity, UserFollowEntity, TagFollowEntity, ModerationStatusEntity, ApiTokenEntity];

/** Listed explicitly (not globbed) so the same list works from ts sources under Jest and from dist. */
export const migrations = [CoreSchema1795305600000, Moderation1795392000000, Feeds1795478400000, ApiTokens1795568406000, PostEmbeddings1795571234000, FeedIndexes1795657600000, MemberFeedVersions1795744000000];

export function dataSourceOptions(url: string, logger?: OrmLogger): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities,
    migrations,
    migrationsTableName: 'migrations',
    synchronize: false,
    migrationsRun: false,
    logger,
    logging: logger ? 'all' : false,
    extra: { max: 10 },
  };
}

/** The data source the TypeORM CLI uses (`npx typeorm -d dist/ormconfig.js migration:show`). */
export default new DataSource(dataSourceOptions(databaseUrlFromEnv() ?? 'postgres://127.0.0.1/colloquy'));
