#!/usr/bin/env node
// s3rver's own command line (`s3rver -d DIR -a ADDR -p PORT --configure-bucket NAME ...`, see its --help) with the
// checks of a private bucket on real S3 that s3rver 3.7.1 leaves out, so that a test cannot pass with credentials
// that real S3 would refuse:
//
// * Signature Version 4 is verified (s3rver only looks the access key id up: "Signature version 4 calculation is
//   unimplemented"): Authorization header and presigned URLs; a wrong secret is 403 SignatureDoesNotMatch. Requests
//   more than 15 minutes off the server clock are 403 RequestTimeTooSkewed, expired presigned URLs 403 AccessDenied,
//   a credential scope for another region than S3_REGION (default us-east-1) or another service than s3 is
//   400 AuthorizationHeaderMalformed. Version 2 signatures are left to s3rver, which verifies them.
// * Anonymous requests are 403 AccessDenied (s3rver serves them).
// * Bucket administration through the API (PUT or DELETE on a bucket: CreateBucket, DeleteBucket, bucket CORS and
//   website) is 403 AccessDenied, as for a key limited to the objects of its bucket: a typo in a bucket name fails
//   instead of creating a new bucket. Buckets come from --configure-bucket only.
//
// * Listing with a delimiter finds every common prefix: s3rver 3.7.1 does not descend into a directory two levels
//   below the prefix, so `dev/` in a bucket holding only `dev/SET/file` was missing from a root listing
//   (`rclone lsf --dirs-only remote:bucket/`); here the walk visits the whole bucket (each key is still filtered).
//
// Not checked (as in s3rver): the body against x-amz-content-sha256 or Content-MD5.
// Keys: s3rver's built-in account, access key id S3RVER, secret S3RVER.
'use strict';

const crypto = require('crypto');
// before s3rver's store module takes its own reference to walk (see the top of this file)
const utils = require('s3rver/lib/utils');
const walk = utils.walk;
utils.walk = (dir) => walk(dir);
const S3rver = require('s3rver');
const AWSAccount = require('s3rver/lib/models/account');
const S3Error = require('s3rver/lib/models/error');

const REGION = process.env.S3_REGION || 'us-east-1';
const MAX_SKEW_MS = 15 * 60 * 1000;
const ALGORITHM = 'AWS4-HMAC-SHA256';

/** RFC 3986 percent-encoding of everything but A-Z a-z 0-9 - _ . ~ (what SigV4 and the AWS SDKs use). */
function uriEncode(s) {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function decodeComponent(s, plusIsSpace) {
  try {
    return decodeURIComponent(plusIsSpace ? s.replace(/\+/g, ' ') : s);
  } catch (e) {
    throw new S3Error('InvalidURI', "Couldn't parse the specified URI.");
  }
}

/** The path as S3 canonicalises it: each segment decoded, then encoded once (slashes kept). */
function canonicalUri(rawPath) {
  return rawPath.split('/').map((seg) => uriEncode(decodeComponent(seg, false))).join('/') || '/';
}

/** The query pairs, decoded ('+' is a space), in order. */
function queryPairs(rawQuery) {
  if (!rawQuery) return [];
  return rawQuery.split('&').filter((p) => p !== '').map((p) => {
    const i = p.indexOf('=');
    return i < 0 ? [decodeComponent(p, true), ''] : [decodeComponent(p.slice(0, i), true), decodeComponent(p.slice(i + 1), true)];
  });
}

function canonicalQuery(pairs) {
  return pairs.map(([k, v]) => [uriEncode(k), uriEncode(v)])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`).join('&');
}

/** name -> trimmed values joined with ',' (multiple headers of one name), from the raw headers. */
function headerValues(rawHeaders) {
  const out = new Map();
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i].toLowerCase();
    const value = rawHeaders[i + 1].trim().replace(/\s+/g, ' ');
    out.set(name, out.has(name) ? `${out.get(name)},${value}` : value);
  }
  return out;
}

const hmac = (key, data) => crypto.createHmac('sha256', key).update(data, 'utf8').digest();
const sha256 = (data) => crypto.createHash('sha256').update(data, 'utf8').digest('hex');

/** 20261127T020000Z -> Date, or undefined. */
function parseAmzDate(s) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s || '');
  return m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6])) : undefined;
}

function malformed(message) {
  return new S3Error('AuthorizationHeaderMalformed', `The authorization header is malformed; ${message}`);
}

/**
 * Verifies a SigV4 request (header or presigned). `auth`: { credential, signedHeaders, signature, amzDate,
 * payloadHash, expires?, presigned }.
 */
function verifyV4(req, auth, pairs) {
  const [accessKeyId, date, region, service, terminator, ...rest] = auth.credential.split('/');
  if (!accessKeyId || !date || !region || !service || terminator !== 'aws4_request' || rest.length) {
    throw malformed(`the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`);
  }
  const account = AWSAccount.registry.get(accessKeyId);
  if (!account) {
    throw new S3Error('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.',
      { AWSAccessKeyId: accessKeyId });
  }
  if (region !== REGION) throw malformed(`the region '${region}' is wrong; expecting '${REGION}'`);
  if (service !== 's3') throw malformed(`incorrect service "${service}". This endpoint belongs to "s3".`);
  const when = parseAmzDate(auth.amzDate);
  if (!when) throw new S3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
  if (auth.amzDate.slice(0, 8) !== date) {
    throw malformed(`invalid credential date "${date}". This date is not the same as X-Amz-Date: "${auth.amzDate.slice(0, 8)}".`);
  }
  const now = Date.now();
  if (auth.presigned) {
    if (now > when.getTime() + auth.expires * 1000) throw new S3Error('AccessDenied', 'Request has expired');
  } else if (Math.abs(now - when.getTime()) > MAX_SKEW_MS) {
    throw new S3Error('RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.',
      { RequestTime: auth.amzDate, ServerTime: new Date(now).toISOString(), MaxAllowedSkewMilliseconds: MAX_SKEW_MS });
  }
  const signed = auth.signedHeaders.split(';');
  if (!signed.includes('host')) throw malformed('the SignedHeaders must include host');
  const headers = headerValues(req.rawHeaders);
  const rawUrl = req.url || '/';
  const q = rawUrl.indexOf('?');
  const canonicalRequest = [
    req.method,
    canonicalUri(q < 0 ? rawUrl : rawUrl.slice(0, q)),
    canonicalQuery(pairs.filter(([k]) => !(auth.presigned && k === 'X-Amz-Signature'))),
    ...signed.map((h) => `${h}:${headers.get(h) ?? ''}`),
    '',
    auth.signedHeaders,
    auth.payloadHash,
  ].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = [ALGORITHM, auth.amzDate, scope, sha256(canonicalRequest)].join('\n');
  const secret = account.accessKeys.get(accessKeyId);
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
  const expected = crypto.createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
  const given = String(auth.signature).toLowerCase();
  if (given.length !== expected.length || !crypto.timingSafeEqual(Buffer.from(given), Buffer.from(expected))) {
    throw new S3Error('SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
      { AWSAccessKeyId: accessKeyId, StringToSign: stringToSign, CanonicalRequest: canonicalRequest });
  }
}

/** Koa middleware: the checks listed at the top of this file. */
async function privateBucket(ctx, next) {
  const req = ctx.req;
  const rawUrl = req.url || '/';
  const q = rawUrl.indexOf('?');
  const pairs = queryPairs(q < 0 ? '' : rawUrl.slice(q + 1));
  const query = new Map(pairs);
  const authorization = req.headers.authorization;
  if (authorization !== undefined && authorization.startsWith(`${ALGORITHM} `)) {
    const parts = new Map(authorization.slice(ALGORITHM.length + 1).split(',').map((c) => {
      const t = c.trim();
      const i = t.indexOf('=');
      return [t.slice(0, i), t.slice(i + 1)];
    }));
    for (const k of ['Credential', 'SignedHeaders', 'Signature']) {
      if (!parts.get(k)) throw malformed(`missing ${k}.`);
    }
    const payloadHash = req.headers['x-amz-content-sha256'];
    if (payloadHash === undefined) throw new S3Error('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
    let amzDate = req.headers['x-amz-date'];
    if (amzDate === undefined && req.headers.date !== undefined) {
      const d = new Date(req.headers.date);
      if (!isNaN(d.getTime())) amzDate = d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    }
    verifyV4(req, { credential: parts.get('Credential'), signedHeaders: parts.get('SignedHeaders'),
      signature: parts.get('Signature'), amzDate, payloadHash, presigned: false }, pairs);
  } else if (query.get('X-Amz-Algorithm') !== undefined) {
    if (query.get('X-Amz-Algorithm') !== ALGORITHM) {
      throw new S3Error('AuthorizationQueryParametersError', 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
    }
    for (const k of ['X-Amz-Credential', 'X-Amz-SignedHeaders', 'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-Expires']) {
      if (!query.get(k)) throw new S3Error('AuthorizationQueryParametersError', `Query-string authentication version 4 requires the ${k} parameter.`);
    }
    const expires = Number(query.get('X-Amz-Expires'));
    if (!Number.isInteger(expires) || expires < 1 || expires > 604800) {
      throw new S3Error('AuthorizationQueryParametersError', 'X-Amz-Expires must be between 1 and 604800 seconds');
    }
    verifyV4(req, { credential: query.get('X-Amz-Credential'), signedHeaders: query.get('X-Amz-SignedHeaders'),
      signature: query.get('X-Amz-Signature'), amzDate: query.get('X-Amz-Date'),
      payloadHash: req.headers['x-amz-content-sha256'] || 'UNSIGNED-PAYLOAD', expires, presigned: true }, pairs);
  } else if (!(authorization !== undefined && authorization.startsWith('AWS ')) && !query.has('Signature')) {
    throw new S3Error('AccessDenied', 'Access Denied');   // anonymous (V2 requests: s3rver verifies them)
  }
  const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
  if ((req.method === 'PUT' || req.method === 'DELETE') && /^\/[^/]+\/?$/.test(path)) {
    throw new S3Error('AccessDenied', 'Access Denied');   // CreateBucket, DeleteBucket, bucket configuration
  }
  return next();
}

// s3rver composes its middleware in listen() (Koa's callback()): ours goes right after its request logger.
const callback = S3rver.prototype.callback;
S3rver.prototype.callback = function withPrivateBucket() {
  if (!this.middleware.includes(privateBucket)) this.middleware.splice(1, 0, privateBucket);
  return callback.call(this);
};

// PID 1 in a container gets no default SIGTERM/SIGINT handling: stop at once (the data is an emptyDir).
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));

require('s3rver/bin/s3rver.js');
