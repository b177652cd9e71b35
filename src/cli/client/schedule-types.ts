/** The schedule JSON of the REST API as the client reads it (generated from the published document). */
export type { ApiSchedule, ApiSchedulePage, CreateScheduleBody } from './api-types';
