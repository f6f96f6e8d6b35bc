/** Container image references. */
import { IConstruct } from 'constructs';
import { fail } from './props-error';

const IMAGE = /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-]+[a-z0-9]+)*)*(:[\w][\w.-]{0,127})?(@sha256:[a-f0-9]{64})?$/;

/** The tag of an image reference (`undefined` when untagged; digests count as pinned). */
export function imageTag(image: string): string | undefined {
  if (image.includes('@sha256:')) return image.split('@')[0].split('/').pop()!.split(':')[1] ?? 'digest';
  const last = image.split('/').pop()!;
  return last.includes(':') ? last.split(':')[1] : undefined;
}

/** An image reference. With `pinned`, `latest` and untagged images are refused. */
export function checkImage(scope: IConstruct | string, field: string, value: string, pinned = true): string {
  if (typeof value !== 'string' || !IMAGE.test(value)) {
    fail(scope, field, value, "must be an image reference such as 'registry.example.com/erp/api:1.4.2'");
  }
  const tag = imageTag(value);
  if (pinned && (tag === undefined || tag === 'latest')) {
    fail(scope, field, value, "must be pinned to a tag or digest other than 'latest' (e.g. 'erp/api:1.4.2'), so every pod runs the same code");
  }
  return value;
}
