import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  ApiErrorCode,
  listRecords,
  listTenantChains,
  submitRecord,
  submitterRule,
  type SignedCommandType,
} from '@ratsfach/api-contract';
import { openRecord } from '@ratsfach/crypto';
import { commandFromJson, parseStreamName, StreamKind, type DomainCommand } from '@ratsfach/domain';
import { ApiError } from '../../apiError.js';
import type { AuthenticatedDevice } from '../../plugins/auth.js';
import { contractRoute } from '../contractRoute.js';
import { readRecordPage } from '../recordPage.js';
import type { IdentityRouteOptions } from '../identityRouteOptions.js';

const notAllowed = (why: string) =>
  new ApiError(ApiErrorCode.submitterNotAllowed, `this device may not submit the record: ${why}`, {
    hint: 'submit a record from the device that signed it (admin records from an admin device)',
  });

/** The user and device a command names as its signer, when it names one. */
const signerOf = (command: DomainCommand): { userId: string | null; deviceId: string } | null => {
  const data = command.data as {
    signerUserId?: string | null;
    signerDeviceId?: string;
    userId?: string;
    deviceId?: string;
  };
  if (command.type === 'RecordHeadsSeen') {
    return { userId: data.userId ?? null, deviceId: data.deviceId ?? '' };
  }
  if (data.signerDeviceId === undefined) return null;
  return { userId: data.signerUserId ?? null, deviceId: data.signerDeviceId };
};

/**
 * The per-command rule of who may submit (api-contract `submitterRule`): admin records come
 * from an admin device, which must be their signer when they name one; every other record from
 * the very device that signed it. The domain then checks the record's signature against that
 * device's certified key, so a token never carries another device's records.
 */
const requireSubmitter = (command: DomainCommand, device: AuthenticatedDevice): void => {
  const rule = submitterRule[command.type as SignedCommandType];
  const signer = signerOf(command);
  const adminSigned = rule === 'admin' || (signer !== null && signer.userId === null);
  if (adminSigned && !device.admin) {
    throw new ApiError(ApiErrorCode.adminRequired, `${command.type} needs an admin device`, {
      hint: 'use a device certified as an admin device by the tenant root',
    });
  }
  if (signer === null) return;
  if (signer.deviceId !== device.deviceId) {
    throw notAllowed(`it names device ${signer.deviceId} as its signer`);
  }
  if (!adminSigned && signer.userId !== device.userId) {
    throw notAllowed(`it names user ${signer.userId ?? '(none)'} as its signer`);
  }
};

/** The enrolment code id a device certificate names, base64url, or null. */
const enrolmentCodeOf = (command: DomainCommand): string | null => {
  if (command.type !== 'CertifyDevice') return null;
  const { enrolmentCodeId } = openRecord(command.data.record, 'device-certificate').body;
  return enrolmentCodeId === null ? null : Buffer.from(enrolmentCodeId).toString('base64url');
};

/** Largest page of records. */
const maxPage = 500;

/**
 * The signed-command route for tenant, user and committee records, and the records route that
 * serves a chain's signed records to devices that may read it.
 */
export const recordRoutes: FastifyPluginAsync<IdentityRouteOptions> = async (app, options) => {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  typed.route({
    ...contractRoute(submitRecord),
    handler: async (request, reply) => {
      const device = request.device!;
      const command = commandFromJson(request.body);
      if (command.data.tenantId !== device.tenantId) {
        throw new ApiError(
          ApiErrorCode.tenantMismatch,
          'the command names another tenant than the token',
          { hint: 'sign records for the tenant this device belongs to' },
        );
      }
      requireSubmitter(command, device);
      const codeId = enrolmentCodeOf(command);
      const { commandId } = command.metadata;
      if (codeId !== null) {
        // The code is used up atomically with the certificate: claimed first, released again
        // when the certificate is refused, so two certificates under one code cannot both land.
        const code = await options.state.code(device.tenantId, codeId);
        const certified = command.data as { userId: string };
        if (code === null || code.userId !== certified.userId) {
          throw new ApiError(
            ApiErrorCode.enrolmentCodeInvalid,
            'the certificate names an enrolment code this tenant did not issue for this person',
            { hint: 'certify devices from the enrolment listing (`ratsfach admin approve`)' },
          );
        }
        const claim = await options.state.claimCode(
          device.tenantId,
          codeId,
          commandId,
          options.now(),
        );
        if (claim !== 'claimed') {
          throw new ApiError(
            ApiErrorCode.enrolmentCodeUsed,
            'another certificate used this enrolment code',
            { hint: 'a code enrols one device: make a new code for this device' },
          );
        }
      }
      let result;
      try {
        result = await options.commands.run(command);
      } catch (error) {
        if (codeId !== null) await options.state.releaseCode(device.tenantId, codeId, commandId);
        throw error;
      }
      request.log.info(
        { stream: result.stream, type: command.type, replayed: result.replayed },
        'record accepted',
      );
      return reply.status(201).send({
        commandId,
        stream: result.stream,
        events: result.events.map((event) => event.type),
        replayed: result.replayed,
        head: result.head,
      });
    },
  });

  typed.route({
    ...contractRoute(listRecords),
    handler: async (request) => {
      const device = request.device!;
      const { stream } = request.query;
      const from = Number(request.query.from ?? '0');
      const limit = Math.min(Number(request.query.limit ?? maxPage), maxPage);
      const notFound = () =>
        // One answer for a stream of another tenant, one that does not exist and one this
        // device may not read: nothing is learnt about which.
        new ApiError(ApiErrorCode.notFound, 'no such record chain for this device', {
          hint: 'ask for tenant-<tenant>, user-<tenant>-<user> or a committee you belong to',
        });
      let name;
      try {
        name = parseStreamName(stream);
      } catch {
        throw notFound();
      }
      if (name.tenant !== device.tenantId) throw notFound();
      if (name.kind === StreamKind.committee && !device.admin) {
        const memberships = await options.readModel.memberships(device.tenantId, device.userId);
        if (!memberships.some((m) => m.committeeId === name.id)) throw notFound();
      }
      const page = await readRecordPage(options.eventStore, stream, from, limit);
      if (page.length === 0) throw notFound();
      return page;
    },
  });

  typed.route({
    ...contractRoute(listTenantChains),
    handler: async (request) => {
      // The token's tenant is the path's (the auth plugin refuses another tenant's token) and
      // the device is an admin device of it (RouteAuth.admin).
      const { tenantId } = request.params;
      const [users, committees] = await Promise.all([
        options.readModel.tenantUsers(tenantId),
        options.readModel.tenantCommittees(tenantId),
      ]);
      return { users: [...users], committees: [...committees] };
    },
  });
};
