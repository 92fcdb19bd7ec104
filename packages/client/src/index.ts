export * from './http/apiClient.js';
