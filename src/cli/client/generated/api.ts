// Generated from docs/openapi.json by `npm run openapi` (openapi-typescript). Do not edit.
export interface paths {
    "/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The dashboard page */
        get: operations["getDashboard"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/assets/{path}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A file of the dashboard
         * @description Under a versioned path (`/assets/<build>/app.js`) the file never changes and may be cached for a year.
         */
        get: operations["getDashboardAsset"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/cluster": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Summary of the cluster
         * @description Who may call it: admin; operator.
         */
        get: operations["getCluster"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/dead-letters": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * What failed for good, and why, newest first
         * @description Who may call it: admin; operator.
         */
        get: operations["listDeadLetters"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/dead-letters/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Forget a dead letter
         * @description Who may call it: admin; operator.
         */
        delete: operations["deleteDeadLetter"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/dead-letters/{id}/redrive": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Run a dead-lettered task again
         * @description Who may call it: admin; operator.
         */
        post: operations["redriveDeadLetter"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The live feed (server-sent events)
         * @description Node snapshots and finished tasks as they happen. A token in the URL (`?token=`) is refused.
         *
         *     Who may call it: admin; operator; submitter: own tasks; viewer: own tasks.
         */
        get: operations["watchEvents"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/events/ticket": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * A one-use ticket for the live feed
         * @description Browsers cannot send headers with EventSource: this ticket stands for the bearer token once, for EVENTS_TICKET_TTL_SEC seconds at most.
         *
         *     Who may call it: admin; operator; submitter: own tasks; viewer: own tasks.
         */
        post: operations["issueStreamTicket"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Liveness */
        get: operations["getHealth"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/metrics/series": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The cluster over the last 15 minutes, for charts
         * @description A fixed ring of 5-s buckets kept by the principal from what it observes (task ends, its counters, queue depth, Ki heartbeats): throughput by status, latency percentiles, queue depth and oldest waiting task, running tasks and free slots, GPU memory and utilisation per Ki, refused messages by reason. No Prometheus needed.
         *
         *     Who may call it: admin; operator.
         */
        get: operations["getMetricsSeries"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/models": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Deployed models and the Kis each is resident on
         * @description Who may call it: admin; operator; submitter; viewer.
         */
        get: operations["listModels"];
        put?: never;
        /**
         * Deploy a model, or redeploy one under the same name
         * @description The leader keeps the model loaded on between `warm.min` and `warm.max` Kis whose plug-ins load its `type` and that fit its `requirements`, and moves replicas between models by their demand. A task names it with `model`.
         *
         *     Who may call it: admin; operator.
         */
        post: operations["deployModel"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/models/{name}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Delete a model: the leader unloads it everywhere
         * @description Who may call it: admin; operator.
         */
        delete: operations["deleteModel"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/nodes": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List the cluster's members
         * @description Who may call it: admin; operator.
         */
        get: operations["listNodes"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/nodes/{id}/cordon": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Place no new work on a node
         * @description Who may call it: admin; operator.
         */
        post: operations["cordonNode"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/nodes/{id}/drain": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Place no new work on a node and report it drained once nothing runs there
         * @description Who may call it: admin; operator.
         */
        post: operations["drainNode"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/nodes/{id}/release": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Let a quarantined Ki take work again
         * @description Who may call it: admin.
         */
        post: operations["releaseNode"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/nodes/{id}/uncordon": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Let a cordoned, drained or benched node take work again
         * @description Who may call it: admin; operator.
         */
        post: operations["uncordonNode"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/openapi.json": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** This OpenAPI 3.1 document */
        get: operations["getOpenApiDocument"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/readyz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Readiness */
        get: operations["getReadiness"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/schedules": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List schedules, newest first
         * @description Who may call it: admin: any; operator: any; submitter: own; viewer: own.
         */
        get: operations["listSchedules"];
        put?: never;
        /**
         * Create a cron schedule
         * @description Each tick submits `task` as a POST /tasks would, held to the caller's TASK_LIMITS.
         *
         *     Who may call it: admin: any; operator: any; submitter: own.
         */
        post: operations["createSchedule"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/schedules/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Read a schedule
         * @description Who may call it: admin: any; operator: any; submitter: own; viewer: own.
         */
        get: operations["getSchedule"];
        put?: never;
        post?: never;
        /**
         * Delete a schedule
         * @description Tasks it already created stay.
         *
         *     Who may call it: admin: any; operator: any; submitter: own.
         */
        delete: operations["deleteSchedule"];
        options?: never;
        head?: never;
        /**
         * Change a schedule's definition
         * @description A new cron or time zone counts its ticks from now.
         *
         *     Who may call it: admin: any; operator: any; submitter: own.
         */
        patch: operations["updateSchedule"];
        trace?: never;
    };
    "/schedules/{id}/pause": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Pause a schedule
         * @description Who may call it: admin: any; operator: any; submitter: own.
         */
        post: operations["pauseSchedule"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/schedules/{id}/resume": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Resume a schedule
         * @description Ticks that fell while paused are not run: it goes on from now.
         *
         *     Who may call it: admin: any; operator: any; submitter: own.
         */
        post: operations["resumeSchedule"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/tasks": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List tasks, newest first
         * @description A page ends early when its JSON passes TASK_LIST_MAX_BYTES; `nextCursor` then goes on from its last item.
         *
         *     Who may call it: admin: any task; operator: any task; submitter: own tasks; viewer: own tasks.
         */
        get: operations["listTasks"];
        put?: never;
        /**
         * Submit a task
         * @description Stores the task and queues it (or schedules it, with `runAt`/`delayMs`). With `Prefer: wait=N` the answer waits up to N seconds (capped by PRINCIPAL_MAX_WAIT_SEC) for the task to end.
         *
         *     Who may call it: admin: any task; operator: any task; submitter: own tasks.
         */
        post: operations["submitTask"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/tasks/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Read a task
         * @description With `?wait=N` the answer waits up to N seconds (capped by PRINCIPAL_MAX_WAIT_SEC) for the task to end.
         *
         *     Who may call it: admin: any task; operator: any task; submitter: own tasks; viewer: own tasks.
         */
        get: operations["getTask"];
        put?: never;
        post?: never;
        /**
         * Delete a task and its payload and result
         * @description An unfinished task is cancelled first.
         *
         *     Who may call it: admin: any task; operator: any task; submitter: own tasks.
         */
        delete: operations["deleteTask"];
        options?: never;
        head?: never;
        /**
         * Change the priority of a queued or scheduled task
         * @description Who may call it: admin: any task; operator: any task; submitter: own tasks.
         */
        patch: operations["setTaskPriority"];
        trace?: never;
    };
    "/tasks/{id}/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Cancel a task
         * @description A running task is stopped on its Ki. Cancelling a finished task changes nothing and answers it as it is.
         *
         *     Who may call it: admin: any task; operator: any task; submitter: own tasks.
         */
        post: operations["cancelTask"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/tasks/{id}/retry": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Run a failed task again
         * @description The task goes back to queued under its id with a fresh attempt budget; the failed run is kept in `retryHistory`.
         *
         *     Who may call it: admin: any task; operator: any task; submitter: own tasks.
         */
        post: operations["retryTask"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/tasks/{id}/stream": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Follow a task's output as it is produced
         * @description Output comes from `ctx.emit` in plug-ins, the stdout lines of `exec` and the token deltas of an `http` task that posts `"stream": true`. A retry starts again at seq 0. The result stays the source of truth. Past PRINCIPAL_MAX_STREAMS open streams a principal answers 503.
         *
         *     Who may call it: admin: any task; operator: any task; submitter: own tasks; viewer: own tasks.
         */
        get: operations["streamTaskOutput"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/tasks/batch": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Submit several tasks at once
         * @description All tasks are stored in one transaction, or none.
         *
         *     Who may call it: admin: any task; operator: any task; submitter: own tasks.
         */
        post: operations["submitTaskBatch"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/tenants": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Tenants with their settings, what they hold and the GPU-seconds they used this period
         * @description Who may call it: admin: every tenant; operator: every tenant; submitter: its own tenant; viewer: its own tenant.
         */
        get: operations["listTenants"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/tenants/{name}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /**
         * Set a tenant's weight, caps and GPU-seconds budget
         * @description A field left out takes its default (weight 1, no cap).
         *
         *     Who may call it: admin.
         */
        put: operations["setTenant"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/workflows": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List workflows, newest first
         * @description Who may call it: admin: any; operator: any; submitter: own; viewer: own.
         */
        get: operations["listWorkflows"];
        put?: never;
        /**
         * Submit a workflow (a graph of tasks)
         * @description Each entry of `tasks` is a task submission with its `key`, `dependsOn` and optional `map`; at most WORKFLOW_MAX_NODES of them.
         *
         *     Who may call it: admin: any; operator: any; submitter: own.
         */
        post: operations["submitWorkflow"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/workflows/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Read a workflow with its nodes
         * @description Who may call it: admin: any; operator: any; submitter: own; viewer: own.
         */
        get: operations["getWorkflow"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/workflows/{id}/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Cancel a workflow and its unfinished tasks
         * @description Who may call it: admin: any; operator: any; submitter: own.
         */
        post: operations["cancelWorkflow"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        ClusterSummary: {
            /** @description Submissions this principal holds until they are published. */
            admitted: number;
            groups: {
                an: string[];
                group: string;
                ki: string[];
            }[];
            leader: {
                id: string;
                term: number;
            } | null;
            /** @description Member counts by role, then by status. */
            nodes: {
                [key: string]: {
                    [key: string]: number;
                };
            };
            /** @description Pending messages in all, and by priority band. */
            queues: {
                pending: number;
            } & {
                [key: string]: number;
            };
            self: string;
            /** @description Task counts by status; null when the store cannot be read. */
            tasks: {
                [key: string]: number;
            } | null;
            /** @description Statuses whose count stopped at CLUSTER_TASK_COUNT_CAP: there are at least that many. */
            tasksCapped: string[];
            /** @description When the counts were taken (reused for CLUSTER_TASK_COUNT_TTL_MS). */
            tasksCountedAt: string | null;
        };
        DeadLetter: {
            attempts: number | null;
            bodyBytes: number | null;
            /** @description Task ids the message claimed in its clear headers: unverified. */
            claimedTaskIds: string[];
            /** @description How often this letter arrived (failed runs of a task, or copies of a message). */
            count: number;
            error: {
                code: string | null;
                message: string | null;
            } | null;
            /** Format: date-time */
            firstSeenAt: string;
            /** Format: uuid */
            id: string;
            /** Format: date-time */
            lastSeenAt: string;
            messageType: string;
            /** @description failed, rejected, expired, maxlen, delivery_limit or unverified. */
            reason: string;
            redrivable: boolean;
            /** @description The sender the message claimed: unverified. */
            sender: string | null;
            sourceQueue: string | null;
            /** @description The failed task, confirmed in the store; null for a message with no task (it cannot be re-driven). */
            taskId: string | null;
        };
        DeadLetterPage: {
            items: components["schemas"]["DeadLetter"][];
            nextCursor: string | null;
        };
        DeadLetterRedrive: {
            /** Format: uuid */
            deadLetter: string;
            task: components["schemas"]["Task"];
        };
        Health: {
            /** @constant */
            status: "ok";
        };
        MetricsSeries: {
            /** @description Width of one bucket in milliseconds. */
            bucketMs: number;
            /** @description Tasks that ended, per second, by status (every principal hears every end). */
            finishedPerSec: {
                cancelled: number[];
                failed: number[];
                succeeded: number[];
            };
            /** @description Free slots of the live Kis. */
            freeSlots: number[];
            /** @description Per Ki with GPUs (at most 16 at a time): memory summed over its GPUs, utilisation averaged. */
            gpus: {
                ki: string;
                memoryMiB: (number | null)[];
                memoryUsedMiB: (number | null)[];
                utilizationPct: (number | null)[];
            }[];
            /** @description Submit to end of the tasks this principal admitted that ended in the bucket. */
            latencyMs: {
                p50: (number | null)[];
                p95: (number | null)[];
                p99: (number | null)[];
            };
            /** @description Age of the oldest waiting task (the leader's reading). */
            oldestWaitingSec: number[];
            /** @description Pending messages in the priority-band queues (the peak of the bucket, read every second; so are the waiting tasks, their oldest age and the running tasks; free slots are the low). */
            queueDepth: number[];
            /** @description Messages this principal refused, per second, by reason (only reasons seen in the window). */
            rejectedPerSec: {
                [key: string]: number[];
            };
            /** @description Busy slots of the live Kis. */
            running: number[];
            /** @description Tasks this principal admitted, per second. */
            submittedPerSec: number[];
            /** @description Start of each bucket, Unix seconds, oldest first. */
            t: number[];
            /** @description Tasks waiting in the store (read by the leader; 0 on a follower). */
            waiting: number[];
        };
        Model: {
            /** @description Passed to the load hook as is. */
            config: {
                [key: string]: unknown;
            };
            /** Format: date-time */
            createdAt: string;
            createdBy: string;
            name: string;
            /** @description Where the model is resident, as the Kis' heartbeats report it. */
            replicas: {
                ki: string;
                /**
                 * Format: date-time
                 * @description Since when the model is in this state on that Ki.
                 */
                since: string;
                /** @enum {string} */
                state: "loading" | "ready" | "unloading";
            }[];
            requirements: {
                /** @default 0 */
                gpuMemoryMiB: number;
                /** @default 0 */
                gpus: number;
                /** @default [] */
                labels: string[];
            };
            /** @description The model type: the key of the plug-in's `models` hooks that load it. */
            type: string;
            /** Format: date-time */
            updatedAt: string;
            /** @description How many Kis the leader keeps it loaded on. */
            warm: {
                max: number;
                min: number;
            };
        };
        ModelDeployment: {
            /**
             * @description Passed to the load hook as is.
             * @default {}
             */
            config?: {
                [key: string]: unknown;
            };
            name: string;
            /**
             * @default {
             *       "gpus": 0,
             *       "gpuMemoryMiB": 0,
             *       "labels": []
             *     }
             */
            requirements?: {
                /** @default 0 */
                gpuMemoryMiB?: number;
                /** @default 0 */
                gpus?: number;
                /** @default [] */
                labels?: string[];
            };
            /** @description The model type: the key of the plug-in's `models` hooks that load it. */
            type: string;
            /**
             * @default {
             *       "min": 0
             *     }
             */
            warm?: {
                /** @description Defaults to max(min, 1). */
                max?: number;
                /** @default 0 */
                min?: number;
            };
        };
        ModelList: {
            items: components["schemas"]["Model"][];
        };
        Node: {
            /** @description Taken out of placement by the circuit breaker (repeated timeouts or crashes) until benchedUntil. */
            benched?: boolean;
            /** Format: date-time */
            benchedUntil?: string;
            benchReason?: string;
            drained?: boolean;
            gpus: {
                /** @description Uncorrected ECC errors since the driver loaded (cards with ECC). */
                eccUncorrected?: number;
                /**
                 * @description failed: the Ki saw the GPU fail; it takes no new work.
                 * @enum {string}
                 */
                health?: "ok" | "failed";
                healthReason?: string;
                index: number;
                memoryMiB: number;
                memoryUsedMiB: number;
                name: string;
                utilizationPct?: number;
                uuid: string;
            }[];
            group: string;
            id: string;
            instance?: string;
            labels: string[];
            /** Format: date-time */
            lastSeen: string;
            leader: boolean;
            load: number;
            quarantined: boolean;
            /** @enum {string} */
            role: "principal" | "an" | "ki" | "standalone";
            slots: {
                busy: number;
                total: number;
            };
            /** @description The identity cordons, drains, benches and reputation are kept under. */
            stableId?: string;
            /** Format: date-time */
            startedAt: string;
            /** @enum {string} */
            state?: "active" | "cordoned" | "draining";
            /** Format: date-time */
            stateChangedAt?: string;
            stateChangedBy?: string;
            stateReason?: string;
            /** @enum {string} */
            status: "alive" | "suspect" | "dead" | "left";
            types: string[];
            version: string;
        };
        NodeList: {
            items: components["schemas"]["Node"][];
        };
        NodeOperation: {
            reason?: string;
        };
        NodeOperationResult: {
            /** Format: date-time */
            changedAt: string;
            changedBy: string | null;
            /** @description True once nothing runs on the node any more. */
            drained: boolean;
            id: string;
            reason: string | null;
            /** @description The identity the state is kept under: it survives a rescheduled pod. */
            stableId: string;
            /** @enum {string} */
            state: "active" | "cordoned" | "draining";
        };
        NodeReleased: {
            id: string;
            /** @constant */
            quarantined: false;
        };
        Problem: {
            /** @description The limit a value passed (400). */
            ceiling?: number;
            detail: string;
            /** @description Up to ten validation issues (400). */
            errors?: {
                field: string;
                message: string;
            }[];
            /** @description The request field at fault (400). */
            field?: string;
            /** @description Seconds to wait before trying again (429). */
            retryAfterSec?: number;
            status: number;
            title: string;
            type: string;
        } & {
            [key: string]: unknown;
        };
        Readiness: {
            /** @constant */
            status: "ready";
        } | {
            failing: string[];
            /** @constant */
            status: "not ready";
        };
        Schedule: {
            /** @enum {string} */
            catchup: "none" | "latest";
            /** Format: date-time */
            createdAt: string;
            cron: string;
            /** Format: uuid */
            id: string;
            lastRun: {
                /** Format: date-time */
                at: string;
                /** @enum {string} */
                outcome: "created" | "skipped-overlap";
                taskId: string | null;
                /** Format: date-time */
                tickAt: string;
            } | null;
            name: string;
            /** @description Null while paused. */
            nextRunAt: string | null;
            /** @enum {string} */
            overlap: "skip" | "allow";
            owner: string;
            paused: boolean;
            runs: {
                created: number;
                skippedOverlap: number;
            };
            /** @description The task submission each tick makes. */
            task: {
                [key: string]: unknown;
            };
            timezone: string;
            /** Format: date-time */
            updatedAt: string;
        };
        ScheduleCreation: {
            /**
             * @default none
             * @enum {string}
             */
            catchup?: "none" | "latest";
            cron: string;
            name: string;
            /**
             * @default skip
             * @enum {string}
             */
            overlap?: "skip" | "allow";
            /** @default false */
            paused?: boolean;
            task: components["schemas"]["TaskSubmission"];
            /** @default UTC */
            timezone?: string;
        };
        SchedulePage: {
            items: components["schemas"]["Schedule"][];
            /** @description Opaque cursor of the next page; null on the last page. */
            nextCursor: string | null;
        };
        SchedulePatch: {
            /** @enum {string} */
            catchup?: "none" | "latest";
            cron?: string;
            name?: string;
            /** @enum {string} */
            overlap?: "skip" | "allow";
            task?: components["schemas"]["TaskSubmission"];
            timezone?: string;
        };
        StreamTicket: {
            expiresInSec: number;
            ticket: string;
        };
        Task: {
            an: string | null;
            /** @description The task's story: each state change with its attempt, An, Ki, GPUs and error, oldest first (the newest 64). Only `GET /tasks/{id}` and the answers about one task carry it, not list items. */
            attemptLog?: {
                an?: string;
                /** @description When the store made the change. */
                at: string;
                attempt: number;
                error?: {
                    code: string | null;
                    message: string | null;
                };
                /** @description GPU indices given to the attempt, by Ki. */
                gpus?: {
                    [key: string]: number[];
                };
                ki?: string;
                /** @enum {string} */
                status: "scheduled" | "queued" | "dispatched" | "running" | "succeeded" | "failed" | "cancelled";
            }[];
            attempts: number;
            /** Format: date-time */
            createdAt: string;
            error: {
                code: string;
                details?: unknown;
                message: string;
                retryable: boolean;
            } | null;
            finishedAt: string | null;
            /** Format: uuid */
            id: string;
            ki: string | null;
            maxAttempts: number;
            /** @description The deployed model the task runs on, when it names one. */
            model?: string;
            owner: string;
            /** @description The submitted payload; list items leave it out unless `include=payload`. */
            payload: unknown;
            priority: number;
            progress: {
                atMs: number;
                fraction: number;
                message?: string;
            } | null;
            /** @description Present when the task runs on several Kis and needs a quorum of equal results. */
            redundancy?: {
                quorum: number;
                replicas: number;
            };
            requirements: {
                gpuMemoryMiB: number;
                gpus: number;
                labels: string[];
            };
            /** @description The result of a succeeded task, else null; list items leave it out unless `include=result`. */
            result: unknown;
            /** @description Earlier runs of a task retried with POST /tasks/{id}/retry, newest last. */
            retryHistory?: {
                attempts: number;
                error: {
                    code: string;
                    details?: unknown;
                    message: string;
                    retryable: boolean;
                } | null;
                finishedAt: string | null;
                maxAttempts: number;
                /** Format: date-time */
                retriedAt: string;
                retriedBy: string;
                retry: number;
            }[];
            /** @description When a task that waits for a time is due; null when it never waited. */
            runAt: string | null;
            scheduleId: string | null;
            scheduleTickAt: string | null;
            startedAt: string | null;
            /** @enum {string} */
            status: "scheduled" | "queued" | "dispatched" | "running" | "succeeded" | "failed" | "cancelled";
            /** @description The tenant the task counts for: its submitter's `tenant` claim, else its owner. */
            tenant: string;
            timeoutMs: number;
            /** @description The task's trace (W3C trace id), for a link to the tracing UI. */
            traceId?: string;
            type: string;
            /** Format: date-time */
            updatedAt: string;
            workflowId: string | null;
        };
        TaskBatchIds: {
            /** @description The ids of the batch's tasks, in the order submitted. */
            ids: string[];
        };
        TaskBatchSubmission: {
            tasks: components["schemas"]["TaskSubmission"][];
        };
        TaskListItem: {
            an: string | null;
            /** @description The task's story: each state change with its attempt, An, Ki, GPUs and error, oldest first (the newest 64). Only `GET /tasks/{id}` and the answers about one task carry it, not list items. */
            attemptLog?: {
                an?: string;
                /** @description When the store made the change. */
                at: string;
                attempt: number;
                error?: {
                    code: string | null;
                    message: string | null;
                };
                /** @description GPU indices given to the attempt, by Ki. */
                gpus?: {
                    [key: string]: number[];
                };
                ki?: string;
                /** @enum {string} */
                status: "scheduled" | "queued" | "dispatched" | "running" | "succeeded" | "failed" | "cancelled";
            }[];
            attempts: number;
            /** Format: date-time */
            createdAt: string;
            error: {
                code: string;
                details?: unknown;
                message: string;
                retryable: boolean;
            } | null;
            finishedAt: string | null;
            /** Format: uuid */
            id: string;
            ki: string | null;
            maxAttempts: number;
            /** @description The deployed model the task runs on, when it names one. */
            model?: string;
            owner: string;
            /** @description The submitted payload; list items leave it out unless `include=payload`. */
            payload?: unknown;
            priority: number;
            progress: {
                atMs: number;
                fraction: number;
                message?: string;
            } | null;
            /** @description Present when the task runs on several Kis and needs a quorum of equal results. */
            redundancy?: {
                quorum: number;
                replicas: number;
            };
            requirements: {
                gpuMemoryMiB: number;
                gpus: number;
                labels: string[];
            };
            /** @description The result of a succeeded task, else null; list items leave it out unless `include=result`. */
            result?: unknown;
            /** @description Earlier runs of a task retried with POST /tasks/{id}/retry, newest last. */
            retryHistory?: {
                attempts: number;
                error: {
                    code: string;
                    details?: unknown;
                    message: string;
                    retryable: boolean;
                } | null;
                finishedAt: string | null;
                maxAttempts: number;
                /** Format: date-time */
                retriedAt: string;
                retriedBy: string;
                retry: number;
            }[];
            /** @description When a task that waits for a time is due; null when it never waited. */
            runAt: string | null;
            scheduleId: string | null;
            scheduleTickAt: string | null;
            startedAt: string | null;
            /** @enum {string} */
            status: "scheduled" | "queued" | "dispatched" | "running" | "succeeded" | "failed" | "cancelled";
            /** @description The tenant the task counts for: its submitter's `tenant` claim, else its owner. */
            tenant: string;
            timeoutMs: number;
            /** @description The task's trace (W3C trace id), for a link to the tracing UI. */
            traceId?: string;
            type: string;
            /** Format: date-time */
            updatedAt: string;
            workflowId: string | null;
        };
        TaskPage: {
            items: components["schemas"]["TaskListItem"][];
            /** @description Opaque cursor of the next page; null on the last page. */
            nextCursor: string | null;
        };
        TaskPatch: {
            priority: number;
        };
        TaskSubmission: {
            delayMs?: number;
            maxAttempts?: number;
            model?: string;
            payload?: unknown;
            priority?: number;
            redundancy?: {
                quorum: number;
                replicas: number;
            };
            requirements?: {
                /** @default 0 */
                gpuMemoryMiB?: number;
                /** @default 0 */
                gpus?: number;
                /** @default [] */
                labels?: string[];
            };
            /** Format: date-time */
            runAt?: string;
            task_data?: unknown;
            timeoutMs?: number;
            type?: string;
        };
        Tenant: {
            /** @description Whether an admin set this tenant; otherwise the defaults apply. */
            configured: boolean;
            gpuSeconds: number;
            gpuSecondsBudget: number | null;
            /** @description Queued tasks held back by fair admission (not yet in the pending queues). */
            held: number;
            maxQueued: number | null;
            maxRunning: number | null;
            name: string;
            periodEnd: string | null;
            /** Format: date-time */
            periodStart: string;
            /** @description Queued tasks, held ones included. */
            queued: number;
            /** @description Dispatched or running tasks. */
            running: number;
            weight: number;
        };
        TenantList: {
            items: components["schemas"]["Tenant"][];
        };
        TenantSettings: {
            /** @default null */
            gpuSecondsBudget?: number | null;
            /** @default null */
            maxQueued?: number | null;
            /** @default null */
            maxRunning?: number | null;
            /** @default 1 */
            weight?: number;
        };
        Workflow: {
            /** Format: date-time */
            createdAt: string;
            finishedAt: string | null;
            /** Format: uuid */
            id: string;
            name: string | null;
            nodes: {
                attempts: number;
                dependsOn: string[];
                finishedAt: string | null;
                key: string;
                map: {
                    over: string;
                } | null;
                reason: string | null;
                startedAt: string | null;
                /** @enum {string} */
                status: "pending" | "running" | "succeeded" | "failed" | "skipped" | "cancelled";
                taskIds: string[];
                tasks: {
                    attempts: number;
                    finishedAt: string | null;
                    /** Format: uuid */
                    id: string;
                    index: number;
                    startedAt: string | null;
                    /** @enum {string} */
                    status: "scheduled" | "queued" | "dispatched" | "running" | "succeeded" | "failed" | "cancelled";
                }[];
                type: string | null;
            }[];
            owner: string;
            reason: string | null;
            /** @enum {string} */
            status: "running" | "succeeded" | "failed" | "cancelled";
            /** Format: date-time */
            updatedAt: string;
        };
        WorkflowPage: {
            items: components["schemas"]["WorkflowSummary"][];
            /** @description Opaque cursor of the next page; null on the last page. */
            nextCursor: string | null;
        };
        WorkflowSubmission: {
            name?: string;
            tasks: {
                dependsOn?: string[];
                key: string;
                map?: {
                    over: string;
                };
                maxAttempts?: number;
                model?: string;
                payload?: unknown;
                priority?: number;
                redundancy?: {
                    quorum: number;
                    replicas: number;
                };
                requirements?: {
                    /** @default 0 */
                    gpuMemoryMiB?: number;
                    /** @default 0 */
                    gpus?: number;
                    /** @default [] */
                    labels?: string[];
                };
                task_data?: unknown;
                timeoutMs?: number;
                type?: string;
            }[];
        };
        WorkflowSummary: {
            /** Format: date-time */
            createdAt: string;
            finishedAt: string | null;
            /** Format: uuid */
            id: string;
            name: string | null;
            owner: string;
            reason: string | null;
            /** @enum {string} */
            status: "running" | "succeeded" | "failed" | "cancelled";
            /** Format: date-time */
            updatedAt: string;
        };
    };
    responses: never;
    parameters: {
        /** @description Makes a retried submission safe: the same key from the same owner answers the earlier record (200) instead of storing a new one. */
        "Idempotency-Key": string;
        /**
         * @description `wait=N`: answer once the task ended, or after N seconds (capped by PRINCIPAL_MAX_WAIT_SEC), whichever comes first.
         * @example wait=30
         */
        Prefer: string;
    };
    requestBodies: never;
    headers: {
        /** @description The file's version, for If-None-Match. */
        ETag: string;
        /** @description The path of the record. */
        Location: string;
        /** @description Whole seconds to wait before trying again. */
        "Retry-After": number;
        /** @description `Bearer`. */
        "WWW-Authenticate": string;
    };
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    getDashboard: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description index.html. */
            200: {
                headers: {
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "text/html": string;
                };
            };
            /** @description Not modified since the ETag sent in If-None-Match. */
            304: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The dashboard is not installed on this principal. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/plain": string;
                };
            };
        };
    };
    getDashboardAsset: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The file's path under /assets/ (it may hold slashes). */
                path: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The file. */
            200: {
                headers: {
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/octet-stream": string;
                };
            };
            /** @description Not modified since the ETag sent in If-None-Match. */
            304: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description No such file. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getCluster: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Leader, member and task counts, queue depths, groups. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ClusterSummary"];
                };
            };
            /** @description No bearer token, or one that is invalid or expired. */
            401: {
                headers: {
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not read the cluster. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller passed its rate limit (HTTP_RATE_LIMIT_RPS). */
            429: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The store, the broker or the identity provider is unavailable: nothing was done; retry after Retry-After. */
            503: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listDeadLetters: {
        parameters: {
            query?: {
                cursor?: string;
                limit?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description One page of dead letters. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DeadLetterPage"];
                };
            };
            /** @description The body (or query) is invalid: `field` names the first field at fault, `errors` lists up to ten issues. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No bearer token, or one that is invalid or expired. */
            401: {
                headers: {
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not read dead letters. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller passed its rate limit (HTTP_RATE_LIMIT_RPS). */
            429: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The store, the broker or the identity provider is unavailable: nothing was done; retry after Retry-After. */
            503: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    deleteDeadLetter: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The record's id (a UUID). */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The letter is gone; its task is untouched. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description No bearer token, or one that is invalid or expired. */
            401: {
                headers: {
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not handle dead letters. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such dead letter. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller passed its rate limit (HTTP_RATE_LIMIT_RPS). */
            429: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The store, the broker or the identity provider is unavailable: nothing was done; retry after Retry-After. */
            503: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    redriveDeadLetter: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The record's id (a UUID). */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The task runs again; its letter is gone. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DeadLetterRedrive"];
                };
            };
            /** @description No bearer token, or one that is invalid or expired. */
            401: {
                headers: {
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not handle dead letters. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such dead letter. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The letter names no task, its task is gone, or the task cannot be retried. */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller passed its rate limit (HTTP_RATE_LIMIT_RPS). */
            429: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The store, the broker or the identity provider is unavailable: nothing was done; retry after Retry-After. */
            503: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    watchEvents: {
        parameters: {
            query?: {
                /** @description A ticket of POST /events/ticket; without it, send Authorization: Bearer. */
                ticket?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description An event stream until the token expires. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/event-stream": string;
                };
            };
            /** @description No bearer token, or one that is invalid or expired. */
            401: {
                headers: {
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not read tasks or nodes. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The store, the broker or the identity provider is unavailable: nothing was done; retry after Retry-After. */
            503: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    issueStreamTicket: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The ticket. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["StreamTicket"];
                };
            };
            /** @description No bearer token, or one that is invalid or expired. */
            401: {
                headers: {
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not read tasks or nodes. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The store, the broker or the identity provider is unavailable: nothing was done; retry after Retry-After. */
            503: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getHealth: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The process answers. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Health"];
                };
            };
        };
    };
    getMetricsSeries: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description One array per figure, aligned with `t`. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["MetricsSeries"];
                };
            };
            /** @description No bearer token, or one that is invalid or expired. */
            401: {
                headers: {
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not read the cluster. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller passed its rate limit (HTTP_RATE_LIMIT_RPS). */
            429: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The store, the broker or the identity provider is unavailable: nothing was done; retry after Retry-After. */
            503: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listModels: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Every deployed model, by name. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ModelList"];
                };
            };
            /** @description No bearer token, or one that is invalid or expired. */
            401: {
                headers: {
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller passed its rate limit (HTTP_RATE_LIMIT_RPS). */
            429: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The store, the broker or the identity provider is unavailable: nothing was done; retry after Retry-After. */
            503: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    deployModel: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ModelDeployment"];
            };
        };
        responses: {
            /** @description The model was deployed before: its settings are replaced. */
            200: {
                headers: {
                    Location: components["headers"]["Location"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Model"];
                };
            };
            /** @description The model is deployed. */
            201: {
                headers: {
                    Location: components["headers"]["Location"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Model"];
                };
            };
            /** @description The body (or query) is invalid: `field` names the first field at fault, `errors` lists up to ten issues. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No bearer token, or one that is invalid or expired. */
            401: {
                headers: {
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not deploy models. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller passed its rate limit (HTTP_RATE_LIMIT_RPS). */
            429: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The store, the broker or the identity provider is unavailable: nothing was done; retry after Retry-After. */
            503: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    deleteModel: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The model's name. */
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The model is gone; tasks that named it keep the name. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The body (or query) is invalid: `field` names the first field at fault, `errors` lists up to ten issues. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No bearer token, or one that is invalid or expired. */
            401: {
                headers: {
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not delete models. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No model of this name. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller passed its rate limit (HTTP_RATE_LIMIT_RPS). */
            429: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The store, the broker or the identity provider is unavailable: nothing was done; retry after Retry-After. */
            503: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listNodes: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Every member this principal hears, by role then id. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["NodeList"];
                };
            };
            /** @description No bearer token, or one that is invalid or expired. */
            401: {
                headers: {
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not read nodes. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller passed its rate limit (HTTP_RATE_LIMIT_RPS). */
            429: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The store, the broker or the identity provider is unavailable: nothing was done; retry after Retry-After. */
            503: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    cordonNode: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A Ki's or An's node id or stable id. */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["NodeOperation"];
            };
        };
        responses: {
            /** @description The node's state as stored. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["NodeOperationResult"];
                };
            };
            /** @description The body (or query) is invalid: `field` names the first field at fault, `errors` lists up to ten issues. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No bearer token, or one that is invalid or expired. */
            401: {
                headers: {
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not operate nodes. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No Ki or An of this id. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The node is a principal: only Kis and Ans are cordoned or drained. */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller passed its rate limit (HTTP_RATE_LIMIT_RPS). */
            429: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The store, the broker or the identity provider is unavailable: nothing was done; retry after Retry-After. */
            503: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    drainNode: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A Ki's or An's node id or stable id. */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["NodeOperation"];
            };
        };
        responses: {
            /** @description The node's state as stored. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["NodeOperationResult"];
                };
            };
            /** @description The body (or query) is invalid: `field` names the first field at fault, `errors` lists up to ten issues. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No bearer token, or one that is invalid or expired. */
            401: {
                headers: {
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not operate nodes. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No Ki or An of this id. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The node is a principal: only Kis and Ans are cordoned or drained. */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller passed its rate limit (HTTP_RATE_LIMIT_RPS). */
            429: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The store, the broker or the identity provider is unavailable: nothing was done; retry after Retry-After. */
            503: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    releaseNode: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The node id. */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The node is no longer quarantined. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["NodeReleased"];
                };
            };
            /** @description No bearer token, or one that is invalid or expired. */
            401: {
                headers: {
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not release nodes. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No reputation record for this node. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller passed its rate limit (HTTP_RATE_LIMIT_RPS). */
            429: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The store, the broker or the identity provider is unavailable: nothing was done; retry after Retry-After. */
            503: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    uncordonNode: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A Ki's or An's node id or stable id. */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["NodeOperation"];
            };
        };
        responses: {
            /** @description The node's state as stored. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["NodeOperationResult"];
                };
            };
            /** @description The body (or query) is invalid: `field` names the first field at fault, `errors` lists up to ten issues. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No bearer token, or one that is invalid or expired. */
            401: {
                headers: {
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not operate nodes. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No Ki or An of this id. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The node is a principal: only Kis and Ans are cordoned or drained. */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller passed its rate limit (HTTP_RATE_LIMIT_RPS). */
            429: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The store, the broker or the identity provider is unavailable: nothing was done; retry after Retry-After. */
            503: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getOpenApiDocument: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The document. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": Record<string, never>;
                };
            };
        };
    };
    getReadiness: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Ready to serve. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Readiness"];
                };
            };
            /** @description Not ready: `failing` names the checks that fail (or `draining`). */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Readiness"];
                };
            };
        };
    };
    listSchedules: {
        parameters: {
            query?: {
                cursor?: string;
                limit?: number;
                owner?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description One page of schedules. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SchedulePage"];
                };
            };
            /** @description The body (or query) is invalid: `field` names the first field at fault, `errors` lists up to ten issues. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No bearer token, or one that is invalid or expired. */
            401: {
                headers: {
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not read schedules. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller passed its rate limit (HTTP_RATE_LIMIT_RPS). */
            429: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The store, the broker or the identity provider is unavailable: nothing was done; retry after Retry-After. */
            503: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    createSchedule: {
        parameters: {
            query?: never;
            header?: {
                /** @description Makes a retried submission safe: the same key from the same owner answers the earlier record (200) instead of storing a new one. */
                "Idempotency-Key"?: components["parameters"]["Idempotency-Key"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ScheduleCreation"];
            };
        };
        responses: {
            /** @description An Idempotency-Key the caller used before: the earlier record, nothing new stored. */
            200: {
                headers: {
                    Location: components["headers"]["Location"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Schedule"];
                };
            };
            /** @description The schedule was stored. */
            201: {
                headers: {
                    Location: components["headers"]["Location"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Schedule"];
                };
            };
            /** @description The body (or query) is invalid: `field` names the first field at fault, `errors` lists up to ten issues. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No bearer token, or one that is invalid or expired. */
            401: {
                headers: {
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not change schedules. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller has SCHEDULES_MAX_PER_OWNER schedules already, or the schedule of this Idempotency-Key no longer exists. */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The body exceeds its size limit. */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller passed its rate limit (HTTP_RATE_LIMIT_RPS). */
            429: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The store, the broker or the identity provider is unavailable: nothing was done; retry after Retry-After. */
            503: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getSchedule: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The record's id (a UUID). */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The schedule. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Schedule"];
                };
            };
            /** @description No bearer token, or one that is invalid or expired. */
            401: {
                headers: {
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such schedule, or one of another owner that the caller may not see. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller passed its rate limit (HTTP_RATE_LIMIT_RPS). */
            429: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The store, the broker or the identity provider is unavailable: nothing was done; retry after Retry-After. */
            503: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    deleteSchedule: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The record's id (a UUID). */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The schedule is gone. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description No bearer token, or one that is invalid or expired. */
            401: {
                headers: {
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not change schedules. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such schedule, or one of another owner that the caller may not see. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller passed its rate limit (HTTP_RATE_LIMIT_RPS). */
            429: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The store, the broker or the identity provider is unavailable: nothing was done; retry after Retry-After. */
            503: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    updateSchedule: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The record's id (a UUID). */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["SchedulePatch"];
            };
        };
        responses: {
            /** @description The schedule after the change. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Schedule"];
                };
            };
            /** @description The body (or query) is invalid: `field` names the first field at fault, `errors` lists up to ten issues. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No bearer token, or one that is invalid or expired. */
            401: {
                headers: {
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not change schedules. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such schedule, or one of another owner that the caller may not see. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller passed its rate limit (HTTP_RATE_LIMIT_RPS). */
            429: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The store, the broker or the identity provider is unavailable: nothing was done; retry after Retry-After. */
            503: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    pauseSchedule: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The record's id (a UUID). */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The schedule after the change. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Schedule"];
                };
            };
            /** @description The body (or query) is invalid: `field` names the first field at fault, `errors` lists up to ten issues. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No bearer token, or one that is invalid or expired. */
            401: {
                headers: {
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not change schedules. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such schedule, or one of another owner that the caller may not see. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller passed its rate limit (HTTP_RATE_LIMIT_RPS). */
            429: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The store, the broker or the identity provider is unavailable: nothing was done; retry after Retry-After. */
            503: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    resumeSchedule: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The record's id (a UUID). */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The schedule after the change. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Schedule"];
                };
            };
            /** @description The body (or query) is invalid: `field` names the first field at fault, `errors` lists up to ten issues. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No bearer token, or one that is invalid or expired. */
            401: {
                headers: {
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not change schedules. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such schedule, or one of another owner that the caller may not see. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller passed its rate limit (HTTP_RATE_LIMIT_RPS). */
            429: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The store, the broker or the identity provider is unavailable: nothing was done; retry after Retry-After. */
            503: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listTasks: {
        parameters: {
            query?: {
                cursor?: string;
                include?: string;
                limit?: number;
                owner?: string;
                status?: "scheduled" | "queued" | "dispatched" | "running" | "succeeded" | "failed" | "cancelled";
                type?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description One page of tasks. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TaskPage"];
                };
            };
            /** @description The body (or query) is invalid: `field` names the first field at fault, `errors` lists up to ten issues. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No bearer token, or one that is invalid or expired. */
            401: {
                headers: {
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not read tasks. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller passed its rate limit (HTTP_RATE_LIMIT_RPS). */
            429: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The store, the broker or the identity provider is unavailable: nothing was done; retry after Retry-After. */
            503: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    submitTask: {
        parameters: {
            query?: never;
            header?: {
                /** @description Makes a retried submission safe: the same key from the same owner answers the earlier record (200) instead of storing a new one. */
                "Idempotency-Key"?: components["parameters"]["Idempotency-Key"];
                /**
                 * @description `wait=N`: answer once the task ended, or after N seconds (capped by PRINCIPAL_MAX_WAIT_SEC), whichever comes first.
                 * @example wait=30
                 */
                Prefer?: components["parameters"]["Prefer"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["TaskSubmission"];
            };
        };
        responses: {
            /** @description An Idempotency-Key the caller used before: the earlier answer, nothing new stored. */
            200: {
                headers: {
                    Location: components["headers"]["Location"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Task"];
                };
            };
            /** @description The task was stored. */
            201: {
                headers: {
                    Location: components["headers"]["Location"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Task"];
                };
            };
            /** @description The body (or query) is invalid: `field` names the first field at fault, `errors` lists up to ten issues. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No bearer token, or one that is invalid or expired. */
            401: {
                headers: {
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not submit tasks. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The task of this Idempotency-Key no longer exists. */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The body exceeds MAX_BODY_BYTES. */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller passed its rate limit (HTTP_RATE_LIMIT_RPS). */
            429: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The store, the broker or the identity provider is unavailable: nothing was done; retry after Retry-After. */
            503: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getTask: {
        parameters: {
            query?: {
                /** @description Seconds to wait for the task to end. */
                wait?: number;
            };
            header?: never;
            path: {
                /** @description The record's id (a UUID). */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The task. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Task"];
                };
            };
            /** @description The body (or query) is invalid: `field` names the first field at fault, `errors` lists up to ten issues. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No bearer token, or one that is invalid or expired. */
            401: {
                headers: {
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such task, or one of another owner that the caller may not see. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller passed its rate limit (HTTP_RATE_LIMIT_RPS). */
            429: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The store, the broker or the identity provider is unavailable: nothing was done; retry after Retry-After. */
            503: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    deleteTask: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The record's id (a UUID). */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The task is gone. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description No bearer token, or one that is invalid or expired. */
            401: {
                headers: {
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not change tasks. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such task, or one of another owner that the caller may not see. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller passed its rate limit (HTTP_RATE_LIMIT_RPS). */
            429: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The store, the broker or the identity provider is unavailable: nothing was done; retry after Retry-After. */
            503: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    setTaskPriority: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The record's id (a UUID). */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["TaskPatch"];
            };
        };
        responses: {
            /** @description The task with its new priority. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Task"];
                };
            };
            /** @description The body (or query) is invalid: `field` names the first field at fault, `errors` lists up to ten issues. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No bearer token, or one that is invalid or expired. */
            401: {
                headers: {
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not change tasks. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such task, or one of another owner that the caller may not see. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The task is no longer queued or scheduled. */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller passed its rate limit (HTTP_RATE_LIMIT_RPS). */
            429: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The store, the broker or the identity provider is unavailable: nothing was done; retry after Retry-After. */
            503: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    cancelTask: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The record's id (a UUID). */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The task after the cancel. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Task"];
                };
            };
            /** @description No bearer token, or one that is invalid or expired. */
            401: {
                headers: {
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not change tasks. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such task, or one of another owner that the caller may not see. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller passed its rate limit (HTTP_RATE_LIMIT_RPS). */
            429: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The store, the broker or the identity provider is unavailable: nothing was done; retry after Retry-After. */
            503: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    retryTask: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The record's id (a UUID). */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The task, queued again. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Task"];
                };
            };
            /** @description No bearer token, or one that is invalid or expired. */
            401: {
                headers: {
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not change tasks. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such task, or one of another owner that the caller may not see. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The task is not failed, was retried already, used its 100 attempts, or belongs to a workflow. */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller passed its rate limit (HTTP_RATE_LIMIT_RPS). */
            429: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The store, the broker or the identity provider is unavailable: nothing was done; retry after Retry-After. */
            503: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    streamTaskOutput: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The record's id (a UUID). */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Server-Sent Events: `event: chunk` with `{attempt, seq, text}` for each piece of output (the chunks kept so far first), then one `event: end` with the task as `GET /tasks/{id}` shows it; the stream then closes. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/event-stream": string;
                };
            };
            /** @description No bearer token, or one that is invalid or expired. */
            401: {
                headers: {
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such task, or one of another owner that the caller may not see. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller passed its rate limit (HTTP_RATE_LIMIT_RPS). */
            429: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The store, the broker or the identity provider is unavailable: nothing was done; retry after Retry-After. */
            503: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    submitTaskBatch: {
        parameters: {
            query?: never;
            header?: {
                /** @description Makes a retried submission safe: the same key from the same owner answers the earlier record (200) instead of storing a new one. */
                "Idempotency-Key"?: components["parameters"]["Idempotency-Key"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["TaskBatchSubmission"];
            };
        };
        responses: {
            /** @description An Idempotency-Key the caller used before: the earlier answer, nothing new stored. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TaskBatchIds"];
                };
            };
            /** @description The tasks were stored. */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TaskBatchIds"];
                };
            };
            /** @description The body (or query) is invalid: `field` names the first field at fault, `errors` lists up to ten issues. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No bearer token, or one that is invalid or expired. */
            401: {
                headers: {
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not submit tasks. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The body exceeds MAX_BODY_BYTES. */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller passed its rate limit (HTTP_RATE_LIMIT_RPS). */
            429: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The store, the broker or the identity provider is unavailable: nothing was done; retry after Retry-After. */
            503: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listTenants: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The tenants the caller may see. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TenantList"];
                };
            };
            /** @description No bearer token, or one that is invalid or expired. */
            401: {
                headers: {
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller passed its rate limit (HTTP_RATE_LIMIT_RPS). */
            429: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The store, the broker or the identity provider is unavailable: nothing was done; retry after Retry-After. */
            503: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    setTenant: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The tenant: a token's `tenant` claim, else its `sub`. */
                name: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["TenantSettings"];
            };
        };
        responses: {
            /** @description The tenant as it now stands. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Tenant"];
                };
            };
            /** @description The body (or query) is invalid: `field` names the first field at fault, `errors` lists up to ten issues. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No bearer token, or one that is invalid or expired. */
            401: {
                headers: {
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not change tenants. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller passed its rate limit (HTTP_RATE_LIMIT_RPS). */
            429: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The store, the broker or the identity provider is unavailable: nothing was done; retry after Retry-After. */
            503: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listWorkflows: {
        parameters: {
            query?: {
                cursor?: string;
                limit?: number;
                owner?: string;
                status?: "running" | "succeeded" | "failed" | "cancelled";
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description One page of workflows, without their nodes. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WorkflowPage"];
                };
            };
            /** @description The body (or query) is invalid: `field` names the first field at fault, `errors` lists up to ten issues. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No bearer token, or one that is invalid or expired. */
            401: {
                headers: {
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not read workflows. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller passed its rate limit (HTTP_RATE_LIMIT_RPS). */
            429: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The store, the broker or the identity provider is unavailable: nothing was done; retry after Retry-After. */
            503: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    submitWorkflow: {
        parameters: {
            query?: never;
            header?: {
                /** @description Makes a retried submission safe: the same key from the same owner answers the earlier record (200) instead of storing a new one. */
                "Idempotency-Key"?: components["parameters"]["Idempotency-Key"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["WorkflowSubmission"];
            };
        };
        responses: {
            /** @description An Idempotency-Key the caller used before: the earlier record, nothing new stored. */
            200: {
                headers: {
                    Location: components["headers"]["Location"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Workflow"];
                };
            };
            /** @description The workflow was stored; its first tasks are queued. */
            201: {
                headers: {
                    Location: components["headers"]["Location"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Workflow"];
                };
            };
            /** @description The body (or query) is invalid: `field` names the first field at fault, `errors` lists up to ten issues. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No bearer token, or one that is invalid or expired. */
            401: {
                headers: {
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not change tasks or workflows. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The workflow of this Idempotency-Key no longer exists. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The body exceeds its size limit. */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller passed its rate limit (HTTP_RATE_LIMIT_RPS). */
            429: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The store, the broker or the identity provider is unavailable: nothing was done; retry after Retry-After. */
            503: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getWorkflow: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The record's id (a UUID). */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The workflow. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Workflow"];
                };
            };
            /** @description No bearer token, or one that is invalid or expired. */
            401: {
                headers: {
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such workflow, or one of another owner that the caller may not see. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller passed its rate limit (HTTP_RATE_LIMIT_RPS). */
            429: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The store, the broker or the identity provider is unavailable: nothing was done; retry after Retry-After. */
            503: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    cancelWorkflow: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The record's id (a UUID). */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The workflow after the cancel. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Workflow"];
                };
            };
            /** @description No bearer token, or one that is invalid or expired. */
            401: {
                headers: {
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not change tasks or workflows. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such workflow, or one of another owner that the caller may not see. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller passed its rate limit (HTTP_RATE_LIMIT_RPS). */
            429: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The store, the broker or the identity provider is unavailable: nothing was done; retry after Retry-After. */
            503: {
                headers: {
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
}
