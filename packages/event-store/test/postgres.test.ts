import t from 'tap';
import { runEventStoreContract } from './contract.js';
import { postgresContractFactory, testPostgresUrl } from './postgresBackend.js';

const url = testPostgresUrl();

t.test('the shared event-store contract on PostgreSQL', async (t) => {
  runEventStoreContract(t, postgresContractFactory(url));
});
