import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import {
  checkEnrolmentRequest,
  createEnrolmentCode,
  cryptoReady,
  fingerprint,
  generateSigningKeyPair,
  verifyLoginProof,
  type EnrolmentCode,
} from '@ratsfach/crypto';
import { base64urlDecode, base64urlEncode } from '@ratsfach/kernel';
import { cli, tempDir } from '../../../test/support/cliHarness.js';
import { ExitCode } from '../output.js';
import { openProfileKeys, readProfile } from '../profile.js';
import { openSyncState } from '../../sync/syncStateFile.js';

await cryptoReady();

const passphrase = 'a long device passphrase';

/**
 * The service's side of enrolment and login, as far as this test needs it: the submission is
 * checked the way the administrator's device checks it (MAC under the code's secret), and
 * login verifies the proof against the submitted key once `certified` is set.
 */
const fakeService = async (t: { teardown(fn: () => unknown): void }, code: EnrolmentCode) => {
  const seen = {
    submissions: 0,
    logins: 0,
    certified: false,
    certifyOnAsk: false,
    signingKey: new Uint8Array() as Uint8Array,
    deviceId: '',
  };
  const challenge = new Uint8Array(32).fill(7);
  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, {
      'content-type': status >= 400 ? 'application/problem+json' : 'application/json',
    });
    res.end(JSON.stringify(body));
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      const body = JSON.parse(text || '{}') as Record<string, string>;
      if (req.url === '/v1/tenants/stadt/enrolments') {
        let checked;
        try {
          checked = checkEnrolmentRequest(base64urlDecode(body.request as string), code);
        } catch (error) {
          send(res, 403, {
            type: 'about:blank',
            title: 'no',
            status: 403,
            detail: (error as Error).message,
            code: 'RATSFACH_ENROLMENT_REFUSED',
          });
          return;
        }
        seen.submissions += 1;
        seen.signingKey = checked.signingKey;
        seen.deviceId = checked.deviceId;
        send(res, 202, {
          submissionId: 's1',
          codeId: body.codeId,
          userId: checked.userId,
          deviceId: checked.deviceId,
          fingerprint: fingerprint(checked.signingKey),
          request: body.request,
          submittedAt: '2026-12-03T12:00:00Z',
          codeExpiresAt: '2026-12-10T12:00:00Z',
        });
      } else if (req.url === '/v1/tenants/stadt/login/challenge') {
        send(res, 200, {
          challengeId: 'c1',
          challenge: base64urlEncode(challenge),
          expiresAt: 'x',
        });
      } else if (req.url === '/v1/tenants/stadt/login') {
        seen.logins += 1;
        if (!seen.certified) {
          // The administrator approves while the device waits.
          seen.certified = seen.certifyOnAsk;
          send(res, 401, {
            type: 'about:blank',
            title: 'no',
            status: 401,
            detail: 'unknown device',
            code: 'RATSFACH_AUTH_DEVICE_UNKNOWN',
          });
          return;
        }
        verifyLoginProof(
          base64urlDecode(body.proof as string),
          { tenantId: 'stadt', deviceId: seen.deviceId, challenge },
          seen.signingKey,
        );
        send(res, 200, {
          token: 'tok',
          session: {
            tenantId: 'stadt',
            userId: 'anna',
            deviceId: seen.deviceId,
            admin: false,
            expiresAt: 'x',
          },
        });
      } else {
        send(res, 404, {
          type: 'about:blank',
          title: 'nf',
          status: 404,
          detail: 'no route',
          code: 'RATSFACH_NOT_FOUND',
        });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise((resolve) => server.close(resolve)));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
};

t.test(
  'enrol submits MACed keys, keeps them sealed in the profile and waits for the admin',
  async (t) => {
    const code = createEnrolmentCode(generateSigningKeyPair().publicKey);
    const service = await fakeService(t, code);
    const profile = join(await tempDir(t), 'tablet');
    const env = { RATSFACH_PASSPHRASE: passphrase };
    const run = await cli(
      [
        '--profile',
        profile,
        'enrol',
        service.url,
        code.text.toLowerCase(),
        '--tenant',
        'stadt',
        '--user',
        'anna',
        '--name',
        'tablet',
      ],
      { env },
    );
    t.equal(run.exitCode, ExitCode.needsUser, 'waiting for the administrator is exit 3');
    t.match(run.stdout, /certify this device/);
    t.match(run.stderr, /key fingerprint [0-9a-f]{16}/);
    t.equal(service.seen.submissions, 1, 'the MAC checked out on the administrator side');
    const saved = await readProfile(profile);
    t.match(saved, {
      kind: 'member',
      tenantId: 'stadt',
      userId: 'anna',
      serverUrl: service.url,
      deviceId: service.seen.deviceId,
    });
    t.equal(
      saved.rootFingerprint,
      Buffer.from(code.rootPin).toString('hex'),
      'the root pin from the code',
    );
    const keys = await openProfileKeys(profile, passphrase);
    t.same(keys.signing.publicKey, service.seen.signingKey, 'the submitted key is the sealed one');
    const state = openSyncState(profile);
    t.equal(state.setting('deviceName'), 'tablet');
    state.close();

    const again = await cli(
      [
        '--profile',
        profile,
        'enrol',
        service.url,
        code.text,
        '--tenant',
        'stadt',
        '--user',
        'anna',
      ],
      { env },
    );
    t.equal(again.exitCode, ExitCode.error);
    t.match(again.stderr, /already holds the device/);
    t.equal(service.seen.submissions, 1, 'a second enrolment into the profile sends nothing');
  },
);

t.test('enrol --wait logs in once the device is certified', async (t) => {
  const code = createEnrolmentCode(generateSigningKeyPair().publicKey);
  const service = await fakeService(t, code);
  const profile = join(await tempDir(t), 'laptop');
  service.seen.certifyOnAsk = true;
  const run = await cli(
    [
      '--profile',
      profile,
      '--json',
      'enrol',
      '--server',
      service.url,
      '--code',
      code.text,
      '--tenant',
      'stadt',
      '--user',
      'anna',
      '--wait',
      '--interval',
      '0.05',
    ],
    { env: { RATSFACH_PASSPHRASE: passphrase } },
  );
  t.equal(run.exitCode, ExitCode.ok, run.stderr);
  t.match(run.json(), { status: 'certified', deviceId: service.seen.deviceId });
  t.equal(service.seen.logins, 2, 'it asked again until certified');

  const late = await cli(
    [
      '--profile',
      join(await tempDir(t), 'p'),
      'enrol',
      service.url,
      createEnrolmentCode(generateSigningKeyPair().publicKey).text,
      '--tenant',
      'stadt',
      '--user',
      'anna',
      '--wait',
      '--timeout',
      '0',
    ],
    { env: { RATSFACH_PASSPHRASE: passphrase } },
  );
  t.equal(late.exitCode, ExitCode.error, 'a code the administrator did not make is refused');
  t.match(late.stderr, /RATSFACH_ENROLMENT_REFUSED/);
});

t.test('enrol --wait gives up after its timeout with exit 3', async (t) => {
  const code = createEnrolmentCode(generateSigningKeyPair().publicKey);
  const service = await fakeService(t, code);
  const run = await cli(
    [
      '--profile',
      join(await tempDir(t), 'p'),
      'enrol',
      service.url,
      code.text,
      '--tenant',
      'stadt',
      '--user',
      'anna',
      '--wait',
      '--timeout',
      '0.1',
      '--interval',
      '0.05',
    ],
    { env: { RATSFACH_PASSPHRASE: passphrase } },
  );
  t.equal(run.exitCode, ExitCode.needsUser);
  t.match(run.stdout, /Not certified yet/);
});

t.test('enrol refuses bad input before anything is sent', async (t) => {
  const env = { RATSFACH_PASSPHRASE: passphrase };
  const profile = join(await tempDir(t), 'p');
  const noServer = await cli(['--profile', profile, 'enrol', '--tenant', 's', '--user', 'u'], {
    env,
  });
  t.equal(noServer.exitCode, ExitCode.error);
  t.match(noServer.stderr, /RATSFACH_CLI_USAGE/);
  const noCode = await cli(
    ['--profile', profile, 'enrol', 'http://127.0.0.1:1', '--tenant', 's', '--user', 'u'],
    { env },
  );
  t.match(noCode.stderr, /code is missing/);
  const typo = await cli(
    [
      '--profile',
      profile,
      'enrol',
      'http://127.0.0.1:1',
      'AAAA-BBBB',
      '--tenant',
      's',
      '--user',
      'u',
    ],
    { env },
  );
  t.match(typo.stderr, /enrolment code/);
  const weak = await cli(
    [
      '--profile',
      profile,
      'enrol',
      'http://127.0.0.1:1',
      createEnrolmentCode(generateSigningKeyPair().publicKey).text,
      '--tenant',
      's',
      '--user',
      'u',
    ],
    { env: { RATSFACH_PASSPHRASE: 'short' } },
  );
  t.match(weak.stderr, /RATSFACH_CLI_PASSPHRASE_WEAK/);
  const missingOption = await cli(['--profile', profile, 'enrol', 'http://x', 'y']);
  t.equal(missingOption.exitCode, ExitCode.usage);
});
