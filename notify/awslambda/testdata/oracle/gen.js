// Writes ../oracle.json: for a handful of fixed requests, shaped exactly as
// awslambda sends them (POST, Content-Type, custom headers,
// X-Amz-Content-Sha256, X-Amz-Date, Content-Length, session token), the
// Authorization header, canonical request and string to sign that the npm
// package aws4 computes. aws4 shares no code with the AWS SDK for Go, so
// agreement is evidence that both follow SigV4.
//
// Not run by tests. To regenerate: npm install && node gen.js
'use strict'
const aws4 = require('aws4')
const crypto = require('crypto')
const fs = require('fs')
const path = require('path')

const akid = 'AKIAIOSFODNN7EXAMPLE'
const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'

const cases = [
  {
    name: 'function-url-json-custom-headers',
    url: 'https://abcdefghijklmnopqrstuvwxyz234567.lambda-url.us-east-1.on.aws/',
    region: 'us-east-1', service: 'lambda', inferred: true,
    customHeaders: [{ name: 'X-Team', value: 'secops' }, { name: 'X-Note', value: 'a   b   c' }],
    body: '{"name":"High CPU","type":"Critical","results":[{"host":"web-1","cpu":97.5}]}',
    time: '2026-03-14T15:09:26Z',
    accessKeyId: akid, secretAccessKey: secret,
  },
  {
    name: 'api-gateway-stage-path-query',
    url: 'https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/prod/alerts/sumo?source=hookline&b=2&a=1&a=0&q=a%20b%2Fc',
    region: 'eu-west-1', service: 'execute-api', inferred: true,
    customHeaders: [{ name: 'X-Env', value: 'prod' }],
    body: '{"name":"Disk full","type":"Warning"}',
    time: '2026-01-02T03:04:05Z',
    accessKeyId: akid, secretAccessKey: secret,
  },
  {
    name: 'session-token',
    url: 'https://zyxwvutsrqponmlkjihgfedcba765432.lambda-url.eu-central-1.on.aws/hook',
    region: 'eu-central-1', service: 'lambda', inferred: false,
    customHeaders: [],
    body: '{"name":"Login burst","type":"ResolvedCritical"}',
    time: '2025-12-31T23:59:59Z',
    accessKeyId: 'ASIAIOSFODNN7EXAMPLE', secretAccessKey: secret,
    sessionToken: 'IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+example/token==',
  },
  {
    name: 'unicode-body-and-path',
    url: 'https://k9j8h7g6f5.execute-api.ap-southeast-5.amazonaws.com/stage/caf%C3%A9/alerts%20v2',
    region: 'ap-southeast-5', service: 'execute-api', inferred: true,
    customHeaders: [{ name: 'X-Locale', value: 'ja-JP' }],
    body: '{"name":"Überlast: 日本語 🚨","text":"Ação \\"quoted\\" \\u2028"}',
    time: '2026-07-04T12:00:00Z',
    accessKeyId: akid, secretAccessKey: secret,
  },
  {
    name: 'china-content-type-override',
    url: 'https://q1w2e3r4t5.execute-api.cn-north-1.amazonaws.com.cn/prod/hook',
    region: 'cn-north-1', service: 'execute-api', inferred: true,
    customHeaders: [{ name: 'Content-Type', value: 'application/vnd.api+json' }],
    body: '{"data":{"type":"alert"}}',
    time: '2026-02-28T08:30:00Z',
    accessKeyId: akid, secretAccessKey: secret,
  },
  {
    name: 'private-api-vpc-endpoint',
    url: 'https://vpce-0123456789abcdef0-abcdefgh.execute-api.us-west-2.vpce.amazonaws.com/prod/',
    region: 'us-west-2', service: 'execute-api', inferred: true,
    customHeaders: [{ name: 'X-Apigw-Api-Id', value: 'a1b2c3d4e5' }],
    body: '{}',
    time: '2026-05-05T05:05:05Z',
    accessKeyId: akid, secretAccessKey: secret,
  },
  {
    name: 'local-endpoint-govcloud-empty-body',
    url: 'http://127.0.0.1:9000/',
    region: 'us-gov-west-1', service: 'lambda', inferred: false,
    customHeaders: [],
    body: '',
    time: '2026-03-14T15:09:26Z',
    accessKeyId: akid, secretAccessKey: secret,
  },
]

function sha256hex(s) {
  return crypto.createHash('sha256').update(s, 'utf8').digest('hex')
}

function amzDate(iso) {
  return iso.replace(/[:-]/g, '').replace(/\.\d{3}/, '')
}

const out = cases.map(c => {
  const u = new URL(c.url)
  // The headers in the order awslambda sets them; a custom Content-Type
  // replaces the default one.
  const headers = { 'Content-Type': 'application/json' }
  for (const h of c.customHeaders) {
    for (const k of Object.keys(headers)) if (k.toLowerCase() === h.name.toLowerCase()) delete headers[k]
    headers[h.name] = h.value
  }
  headers['X-Amz-Content-Sha256'] = sha256hex(c.body)
  headers['X-Amz-Date'] = amzDate(c.time)
  headers.Host = u.host
  const req = {
    host: u.host, path: u.pathname + u.search, method: 'POST',
    service: c.service, region: c.region, headers, body: c.body,
  }
  const creds = { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey }
  if (c.sessionToken) creds.sessionToken = c.sessionToken
  const signer = new aws4.RequestSigner(req, creds)
  signer.sign()
  const auth = req.headers.Authorization
  return {
    name: c.name,
    url: c.url,
    region: c.region,
    service: c.service,
    inferred: c.inferred,
    customHeaders: c.customHeaders,
    body: c.body,
    time: c.time,
    accessKeyId: c.accessKeyId,
    secretAccessKey: c.secretAccessKey,
    sessionToken: c.sessionToken || '',
    expect: {
      authorization: auth,
      signature: auth.slice(auth.indexOf('Signature=') + 'Signature='.length),
      canonicalRequest: signer.canonicalString(),
      stringToSign: signer.stringToSign(),
    },
  }
})

const file = path.join(__dirname, '..', 'oracle.json')
fs.writeFileSync(file, JSON.stringify({
  generator: 'testdata/oracle/gen.js with aws4@' + require('aws4/package.json').version,
  cases: out,
}, null, 2) + '\n')
console.log('wrote', file, out.length, 'cases')
