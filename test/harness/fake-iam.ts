/**
 * An IAM account in memory, behind a real `IAMClient` (aws-sdk-client-mock on that one client),
 * for the sweep's read side: ListUsers and GetAccountAuthorizationDetails (paged with Marker),
 * GenerateCredentialReport and GetCredentialReport (the real CSV columns), ListAccessKeys, GetUser.
 *
 * What moto cannot do and this can: keys created on any day (moto stamps every key "now"), and a
 * credential report stamped by the account's clock. The model is the test's to change between
 * sweeps — users added, deleted and re-created, keys created, rotated, deactivated, tags set —
 * and the sweep reads it as IAM would answer.
 */
import {
  GenerateCredentialReportCommand,
  GetAccountAuthorizationDetailsCommand,
  type GetAccountAuthorizationDetailsCommandInput,
  GetCredentialReportCommand,
  GetUserCommand,
  type GetUserCommandInput,
  type IAMClient,
  ListAccessKeysCommand,
  type ListAccessKeysCommandInput,
  ListUsersCommand,
  type ListUsersCommandInput,
  NoSuchEntityException,
  type Tag,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import type { AccessKeyStatus } from '../../rules/access-key-age/policy';
import { credentialReportCsv } from './credential-report';

export interface FakeKey {
  readonly accessKeyId: string;
  status: AccessKeyStatus;
  readonly createdAt: Date;
}

export interface FakeUser {
  readonly userName: string;
  readonly userId: string;
  readonly arn: string;
  readonly createdAt: Date;
  tags: Tag[];
  keys: FakeKey[];
}

export class FakeIamAccount {
  readonly users = new Map<string, FakeUser>();
  private stub?: { restore(): void; resetHistory(): void };
  private serial = 0;
  /** IAM calls answered, by command name. */
  readonly calls = new Map<string, number>();

  constructor(
    private readonly clock: () => Date,
    readonly accountId = '123456789012',
  ) {}

  /** Answer `client`'s IAM read calls from this account. */
  attach(client: IAMClient): this {
    const stub = mockClient(client);
    const count = (name: string) => this.calls.set(name, (this.calls.get(name) ?? 0) + 1);
    stub.on(ListUsersCommand).callsFake((input: ListUsersCommandInput) => {
      count('ListUsers');
      const { items, marker } = this.page(input.Marker, input.MaxItems);
      return { Users: items.map((u) => this.describe(u)), IsTruncated: marker !== undefined, ...(marker ? { Marker: marker } : {}) };
    });
    stub.on(GetAccountAuthorizationDetailsCommand).callsFake((input: GetAccountAuthorizationDetailsCommandInput) => {
      count('GetAccountAuthorizationDetails');
      const { items, marker } = this.page(input.Marker, input.MaxItems);
      return { UserDetailList: items.map((u) => ({ ...this.describe(u), Tags: u.tags.map((t) => ({ ...t })) })), IsTruncated: marker !== undefined, ...(marker ? { Marker: marker } : {}) };
    });
    stub.on(GenerateCredentialReportCommand).callsFake(() => {
      count('GenerateCredentialReport');
      return { State: 'COMPLETE' };
    });
    stub.on(GetCredentialReportCommand).callsFake(() => {
      count('GetCredentialReport');
      return { Content: Buffer.from(this.credentialReport()), GeneratedTime: this.clock(), ReportFormat: 'text/csv' };
    });
    stub.on(ListAccessKeysCommand).callsFake((input: ListAccessKeysCommandInput) => {
      count('ListAccessKeys');
      const u = this.users.get(input.UserName ?? '');
      if (!u) throw noSuchEntity(`The user with name ${input.UserName} cannot be found.`);
      return { AccessKeyMetadata: u.keys.map((k) => ({ UserName: u.userName, AccessKeyId: k.accessKeyId, Status: k.status, CreateDate: k.createdAt })), IsTruncated: false };
    });
    stub.on(GetUserCommand).callsFake((input: GetUserCommandInput) => {
      count('GetUser');
      const u = this.users.get(input.UserName ?? '');
      if (!u) throw noSuchEntity(`The user with name ${input.UserName} cannot be found.`);
      return { User: { ...this.describe(u), Tags: u.tags.map((t) => ({ ...t })) } };
    });
    this.stub = stub;
    return this;
  }

  detach(): void {
    this.stub?.restore();
    this.stub = undefined;
  }

  /** Drop the mock's record of the calls answered so far (a long run would keep every answer). */
  forgetCalls(): void {
    this.stub?.resetHistory();
  }

  /** A new user (a new user ID, even for a name used before), created at the clock's time unless given. */
  createUser(userName: string, options: { createdAt?: Date; tags?: Tag[] } = {}): FakeUser {
    if (this.users.has(userName)) throw new Error(`fake IAM: user ${userName} exists`);
    const n = ++this.serial;
    const user: FakeUser = {
      userName,
      userId: `AIDA${String(n).padStart(17, '0')}`,
      arn: `arn:aws:iam::${this.accountId}:user/${userName}`,
      // IAM reports creation times to the second
      createdAt: new Date(Math.floor((options.createdAt ?? this.clock()).getTime() / 1000) * 1000),
      tags: [...(options.tags ?? [])],
      keys: [],
    };
    this.users.set(userName, user);
    return user;
  }

  deleteUser(userName: string): void {
    this.users.delete(userName);
  }

  /** A new key (IAM allows two a user), created at the clock's time unless given. */
  createKey(userName: string, createdAt: Date = this.clock(), status: AccessKeyStatus = 'Active'): FakeKey {
    const u = this.user(userName);
    if (u.keys.length >= 2) throw new Error(`fake IAM: ${userName} has two keys already`);
    const key: FakeKey = { accessKeyId: `AKIA${String(++this.serial).padStart(16, '0')}`, status, createdAt: new Date(Math.floor(createdAt.getTime() / 1000) * 1000) };
    u.keys.push(key);
    return key;
  }

  deleteKey(userName: string, accessKeyId: string): void {
    const u = this.user(userName);
    u.keys = u.keys.filter((k) => k.accessKeyId !== accessKeyId);
  }

  user(userName: string): FakeUser {
    const u = this.users.get(userName);
    if (!u) throw new Error(`fake IAM: no user ${userName}`);
    return u;
  }

  /** The credential report IAM would generate now: key columns in creation order. */
  credentialReport(): string {
    return credentialReportCsv(
      [...this.users.values()].map((u) => {
        const keys = [...u.keys].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
        return {
          user: u.userName,
          arn: u.arn,
          created: u.createdAt,
          keys: [keys[0] && { active: keys[0].status === 'Active', lastRotated: keys[0].createdAt }, keys[1] && { active: keys[1].status === 'Active', lastRotated: keys[1].createdAt }],
        };
      }),
      this.accountId,
    );
  }

  private describe(u: FakeUser) {
    return { UserName: u.userName, UserId: u.userId, Arn: u.arn, CreateDate: u.createdAt, Path: '/' };
  }

  /** Users in creation order, a page at a time; the marker is the offset of the next page. */
  private page(marker: string | undefined, maxItems: number | undefined): { items: FakeUser[]; marker?: string } {
    const all = [...this.users.values()];
    const from = marker ? Number(marker) : 0;
    const size = Math.min(maxItems ?? 100, 1000);
    const items = all.slice(from, from + size);
    return from + size < all.length ? { items, marker: String(from + size) } : { items };
  }
}

function noSuchEntity(message: string): Error {
  return new NoSuchEntityException({ message, $metadata: { httpStatusCode: 404 } });
}
