// ListTagsForResource, TagResource, UntagResource: tags live on data stores, addressed by ARN.
import type {
  ListTagsForResourceRequest,
  ListTagsForResourceResponse,
  TagResourceRequest,
  TagResourceResponse,
  UntagResourceRequest,
  UntagResourceResponse,
} from '@aws-sdk/client-healthlake';
import { notFound, validationError } from '../errors';
import type { DatastoreRecord } from '../state/records';
import type { OnWire, ServiceContext } from './context';

/** AWS's limit on tags per resource. */
const MAX_TAGS_PER_RESOURCE = 50;

function requireByArn(ctx: ServiceContext, arn: string): DatastoreRecord {
  const record = [...ctx.state.datastores.values()].find((d) => d.datastoreArn === arn);
  if (!record || record.status === 'DELETED') throw notFound(`Resource ${arn} does not exist`);
  return record;
}

export function listTagsForResource(
  ctx: ServiceContext,
  input: OnWire<ListTagsForResourceRequest>,
): OnWire<ListTagsForResourceResponse> {
  const record = requireByArn(ctx, input.ResourceARN!);
  return { Tags: Object.entries(record.tags).map(([Key, Value]) => ({ Key, Value })) };
}

export function tagResource(
  ctx: ServiceContext,
  input: OnWire<TagResourceRequest>,
): OnWire<TagResourceResponse> {
  const record = requireByArn(ctx, input.ResourceARN!);
  const tags = { ...record.tags, ...Object.fromEntries(input.Tags!.map((t) => [t.Key!, t.Value!])) };
  const count = Object.keys(tags).length;
  if (count > MAX_TAGS_PER_RESOURCE)
    throw validationError(
      `Value ${count} at 'tags' failed to satisfy constraint: a resource can have at most ${MAX_TAGS_PER_RESOURCE} tags`,
    );
  record.tags = tags;
  ctx.state.save();
  return {};
}

export function untagResource(
  ctx: ServiceContext,
  input: OnWire<UntagResourceRequest>,
): OnWire<UntagResourceResponse> {
  const record = requireByArn(ctx, input.ResourceARN!);
  record.tags = Object.fromEntries(
    Object.entries(record.tags).filter(([key]) => !input.TagKeys!.includes(key)),
  );
  ctx.state.save();
  return {};
}
