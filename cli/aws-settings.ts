/**
 * Profiles, Regions and endpoints the way the AWS CLI reads them, before any AWS call is made:
 *
 *   - the profile is `--profile`, else `AWS_PROFILE`, else `default`;
 *   - a profile named by `--profile` or `AWS_PROFILE` must exist in the shared config file
 *     (`AWS_CONFIG_FILE`, default `~/.aws/config`, sections `[default]` and `[profile NAME]`) or the
 *     shared credentials file (`AWS_SHARED_CREDENTIALS_FILE`, default `~/.aws/credentials`,
 *     sections `[NAME]`); an unknown one is a usage error naming it (the AWS CLI's "The config
 *     profile (NAME) could not be found");
 *   - the Region is `--region`, else `AWS_REGION`, else `AWS_DEFAULT_REGION`, else the profile's
 *     `region`, else us-east-1 — the AWS CLI's order;
 *   - `AWS_ENDPOINT_URL` (and the per-service `AWS_ENDPOINT_URL_<SERVICE>` keyage calls) and the
 *     profile's `endpoint_url` must be http(s) URLs; a bad one is a usage error naming the variable.
 *
 * Only what keyage needs is read (section names, `region`, `endpoint_url`); credentials are left to
 * the SDK, which reads the same files. Nothing read here is ever printed but names and Regions.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { InvalidParameterError, KeyageError } from '../lib/errors';
import { DEFAULT_REGION, parseRegion } from './options';

/** Where the shared config and credentials files are. */
export interface SharedFiles {
  readonly configFile: string;
  readonly credentialsFile: string;
}

/** The shared files as the SDK and the AWS CLI locate them. */
export function sharedFiles(env: Readonly<Record<string, string | undefined>>): SharedFiles {
  const home = env.HOME ?? env.USERPROFILE ?? homedir();
  return {
    configFile: env.AWS_CONFIG_FILE ?? join(home, '.aws', 'config'),
    credentialsFile: env.AWS_SHARED_CREDENTIALS_FILE ?? join(home, '.aws', 'credentials'),
  };
}

/** A profile named on the command line (or in `AWS_PROFILE`) is in neither shared file. */
export class UnknownProfileError extends KeyageError {
  constructor(
    public readonly profile: string,
    public readonly source: '--profile' | 'AWS_PROFILE',
    files: SharedFiles,
    known: readonly string[],
  ) {
    super(
      'UnknownProfile',
      `profile ${JSON.stringify(profile)} (from ${source}) is not in ${files.configFile} or ${files.credentialsFile}` +
        (known.length > 0 ? `; the profiles there are ${known.slice(0, 20).join(', ')}${known.length > 20 ? ', …' : ''}` : '; neither file has any profile'),
    );
  }
}

/** INI sections and their `key = value` settings. Sub-settings (indented lines) are skipped. */
export function parseIni(text: string): Map<string, Record<string, string>> {
  const sections = new Map<string, Record<string, string>>();
  let current: Record<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    if (/^\s*([#;].*)?$/.test(raw)) continue;
    const section = /^\s*\[\s*([^\]]+?)\s*\]\s*([#;].*)?$/.exec(raw);
    if (section) {
      const name = (section[1] as string).replace(/\s+/g, ' ');
      current = sections.get(name) ?? {};
      sections.set(name, current);
      continue;
    }
    if (/^\s/.test(raw)) continue; // a nested setting (s3 =\n  max_concurrent_requests = …)
    const setting = /^([^=]+?)\s*=\s*(.*?)\s*$/.exec(raw);
    if (setting && current) current[(setting[1] as string).trim().toLowerCase()] = setting[2] as string;
  }
  return sections;
}

function readIni(file: string): Map<string, Record<string, string>> {
  try {
    return parseIni(readFileSync(file, 'utf8'));
  } catch {
    return new Map(); // a missing or unreadable file holds no profile, as for the SDK
  }
}

/** One profile's settings that keyage reads, merged from both files (the config file's first). */
export interface ProfileSettings {
  readonly name: string;
  /** The profile is in one of the files. */
  readonly found: boolean;
  readonly region?: string;
  readonly endpointUrl?: string;
}

/** Read one profile from the shared files, and the names of every profile they hold. */
export function readProfile(name: string, files: SharedFiles): { profile: ProfileSettings; known: string[] } {
  const config = readIni(files.configFile);
  const credentials = readIni(files.credentialsFile);
  const known = new Set<string>();
  for (const section of config.keys()) {
    if (section === 'default') known.add('default');
    else if (section.startsWith('profile ')) known.add(section.slice('profile '.length).trim());
  }
  for (const section of credentials.keys()) known.add(section);
  const fromConfig = config.get(name === 'default' ? 'default' : `profile ${name}`) ?? (name === 'default' ? config.get('profile default') : undefined);
  const fromCredentials = credentials.get(name);
  const region = fromConfig?.region ?? fromCredentials?.region;
  const endpointUrl = fromConfig?.endpoint_url ?? fromCredentials?.endpoint_url;
  return {
    profile: {
      name,
      found: fromConfig !== undefined || fromCredentials !== undefined,
      ...(region ? { region } : {}),
      ...(endpointUrl ? { endpointUrl } : {}),
    },
    known: [...known].sort(),
  };
}

/** The services keyage calls, as their `AWS_ENDPOINT_URL_<SERVICE>` variables name them. */
export const ENDPOINT_VARIABLES = ['AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_IAM', 'AWS_ENDPOINT_URL_STS', 'AWS_ENDPOINT_URL_ORGANIZATIONS', 'AWS_ENDPOINT_URL_SECURITYHUB'] as const;

const ALLOWED_ENDPOINT = 'an http:// or https:// URL such as https://iam.amazonaws.com or http://127.0.0.1:5000';

/**
 * Check an endpoint URL. @param source how the value is named in the error (a variable or a profile setting).
 * @throws InvalidParameterError naming `source` when it is not an http(s) URL with a host.
 */
export function checkEndpointUrl(value: string, source: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value.trim());
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    throw new InvalidParameterError(source, value, ALLOWED_ENDPOINT);
  }
  return value.trim();
}

/** The AWS settings a command runs with. */
export interface AwsSettings {
  /** The profile named by `--profile` or `AWS_PROFILE`; `null` for the default chain. */
  readonly profile: string | null;
  readonly region: string;
  /** Where the Region came from, for messages: `--region`, `AWS_REGION`, `profile NAME`, `default`. */
  readonly regionSource: string;
  /** Endpoint overrides in force (variable or profile setting → URL), for error messages. */
  readonly endpoints: Readonly<Record<string, string>>;
}

/**
 * Resolve the profile, Region and endpoint overrides of a command.
 * @throws UnknownProfileError for a profile that is in neither shared file.
 * @throws InvalidParameterError for a bad Region or endpoint URL, naming where it came from.
 */
export function resolveAwsSettings(options: { profile?: string; region?: string }, env: Readonly<Record<string, string | undefined>>): AwsSettings {
  const files = sharedFiles(env);
  const named = options.profile ?? (env.AWS_PROFILE !== undefined && env.AWS_PROFILE !== '' ? env.AWS_PROFILE : undefined);
  const { profile, known } = readProfile(named ?? 'default', files);
  if (named !== undefined && !profile.found && named !== 'default') {
    throw new UnknownProfileError(named, options.profile !== undefined ? '--profile' : 'AWS_PROFILE', files, known);
  }
  const endpoints: Record<string, string> = {};
  for (const variable of ENDPOINT_VARIABLES) {
    const value = env[variable];
    if (value !== undefined && value !== '') endpoints[variable] = checkEndpointUrl(value, variable);
  }
  if (profile.endpointUrl !== undefined) endpoints[`endpoint_url of profile ${profile.name}`] = checkEndpointUrl(profile.endpointUrl, `endpoint_url of profile ${profile.name} (${files.configFile})`);

  const candidates: Array<[string, string | undefined]> = [
    ['--region', options.region],
    ['AWS_REGION', env.AWS_REGION],
    ['AWS_DEFAULT_REGION', env.AWS_DEFAULT_REGION],
    [`region of profile ${profile.name}`, profile.region],
  ];
  const chosen = candidates.find(([, v]) => v !== undefined && v !== '');
  const region = chosen ? parseRegion(chosen[1], undefined, chosen[0]) : DEFAULT_REGION;
  return { profile: named ?? null, region, regionSource: chosen ? chosen[0] : 'default', endpoints };
}
