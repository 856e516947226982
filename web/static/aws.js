// inferFromURL reads the AWS region and service that an endpoint's host
// names, as the server does (notify/awslambda.InferFromURL): a Lambda
// Function URL <id>.lambda-url.<region>.on.aws, an API Gateway stage
// <id>.execute-api.<region>.amazonaws.com (also through a VPC endpoint and
// in China), or the Lambda Invoke API lambda.<region>.amazonaws.com.
// It returns {region, service}, or null for any other URL.

const regionPart = '([a-z]{2,4}(?:-[a-z]{2,5})?-[a-z]+-[1-9][0-9]?)';
const regionRE = /^[a-z]{2,4}(-[a-z]{2,5})?-(north|south|east|west|central|northeast|northwest|southeast|southwest)-[1-9][0-9]?$/;

const hostPatterns = [
  [new RegExp('^[a-z0-9-]+\\.lambda-url\\.' + regionPart + '\\.on\\.aws$'), 'lambda'],
  [new RegExp('^[a-z0-9-]+\\.execute-api\\.' + regionPart + '\\.(?:vpce\\.)?amazonaws\\.com(?:\\.cn)?$'), 'execute-api'],
  [new RegExp('^lambda\\.' + regionPart + '\\.amazonaws\\.com(?:\\.cn)?$'), 'lambda'],
];

export function inferFromURL(raw) {
  let u;
  try {
    u = new URL(String(raw).trim());
  } catch {
    return null;
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return null;
  const host = u.hostname.toLowerCase().replace(/\.$/, '');
  for (const [re, service] of hostPatterns) {
    const m = re.exec(host);
    if (m && regionRE.test(m[1])) return { region: m[1], service };
  }
  return null;
}
