// GENERATED FILE: do not edit. Made by `npm run generate-api` from the server's OpenAPI
// document (`tdb openapi`); regenerate after changing the server's schemas or routes.
export interface paths {
    "/api/activations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Read Activations
         * @description One component's activations on a prompt: per token, or per token pair for a head.
         */
        post: operations["activations-read_activations"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/datasets/records/{family}/{layer}/{index}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Read Record
         * @description Everything collated about one component: examples, quantiles, histogram, logits.
         */
        get: operations["datasets-read_record"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/datasets/summaries/{family}/{layer}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Read Summary
         * @description A layer's components ranked by a statistic of their collated activations.
         */
        get: operations["datasets-read_summary"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/debugger/attribute": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Attribute Runs
         * @description Why the targets and not the distractors: node tables of one or more runs.
         */
        post: operations["debugger-attribute_runs"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/debugger/logit-lens": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Read Logit Lens
         * @description The logit lens at one token, and direct logit attribution with targets and distractors.
         */
        post: operations["debugger-read_logit_lens"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/health": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Read Health
         * @description Whether the server is up, and which models are loaded; never loads a model.
         */
        get: operations["health-read_health"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/investigations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List Investigations
         * @description The default investigations of the served model (or of every model).
         */
        get: operations["investigations-list_investigations"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/model": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Read Model
         * @description The served model: its configuration, autoencoders, collated dataset and limits.
         */
        get: operations["model-read_model"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/model/tokenize": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Tokenize
         * @description Token ids and display strings of a text.
         */
        post: operations["model-tokenize"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/models": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List Models
         * @description The models this server serves (choose one with `?model=NAME` on any route); loads none.
         */
        get: operations["models-list_models"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/sampling": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Sample
         * @description Samples with interventions next to samples without them, from the same seed.
         */
        post: operations["sampling-sample"];
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
        /** ActivationsRequest */
        ActivationsRequest: {
            component: components["schemas"]["ComponentSpec"];
            /** Prompt */
            prompt: string | number[];
        };
        /** ActivationsResponse */
        ActivationsResponse: {
            /** Family */
            family: string;
            /** Index */
            index: number;
            /** Layer */
            layer: number | null;
            /** Max */
            max: number | null;
            /** Model */
            model: string;
            /** Pattern */
            pattern: (number | null)[][] | null;
            /** Site */
            site: string;
            /** Tokens */
            tokens: number[];
            /** Tokenstrings */
            tokenStrings: string[];
            /** Values */
            values: (number | null)[] | null;
        };
        /** Autoencoder */
        Autoencoder: {
            /** Architecture */
            architecture: string;
            /** Din */
            dIn: number;
            /** Dsae */
            dSae: number;
            /** K */
            k: number | null;
            /** Latentsite */
            latentSite: string;
            /** Site */
            site: string;
        };
        /** CollationGroup */
        CollationGroup: {
            /** Family */
            family: string;
            /** Layer */
            layer: number | null;
            /** Ncomponents */
            nComponents: number;
            /** Site */
            site: string;
        };
        /** ComponentAttribution */
        ComponentAttribution: {
            /** Contribution */
            contribution: number | null;
            /** Head */
            head: number | null;
            /**
             * Kind
             * @enum {string}
             */
            kind: "embed" | "pos_embed" | "head" | "attn_bias" | "mlp" | "ln_final_bias" | "unembed_bias";
            /** Label */
            label: string;
            /** Layer */
            layer: number | null;
        };
        /** ComponentRecord */
        ComponentRecord: {
            /** Family */
            family: string;
            /** Index */
            index: number;
            /** Layer */
            layer: number | null;
            logits?: components["schemas"]["LogitTables"] | null;
            /** Measures */
            measures: {
                [key: string]: components["schemas"]["Measure"];
            };
            /** Site */
            site: string;
        };
        /**
         * ComponentSpec
         * @description A neuron (layer, index), a head (layer, index = head) or a latent (site = its
         *     autoencoder's site, index).
         */
        ComponentSpec: {
            /**
             * Family
             * @enum {string}
             */
            family: "neuron" | "head" | "latent";
            /** Index */
            index: number;
            /** Layer */
            layer?: number | null;
            /** Site */
            site?: string | null;
        };
        /** DatasetInfo */
        DatasetInfo: {
            /** Available */
            available: boolean;
            /**
             * Collating
             * @default false
             */
            collating?: boolean;
            /** Groups */
            groups?: components["schemas"]["CollationGroup"][];
            /** Message */
            message?: string | null;
            /** Ntokens */
            nTokens?: number | null;
            /** Store */
            store: string;
        };
        /** DebuggerRequest */
        DebuggerRequest: {
            /** Runs */
            runs: components["schemas"]["DebuggerRun"][];
        };
        /** DebuggerResponse */
        DebuggerResponse: {
            /** Model */
            model: string;
            /** Runs */
            runs: components["schemas"]["DebuggerResult"][];
        };
        /** DebuggerResult */
        DebuggerResult: {
            alignment: components["schemas"]["TokenAlignment"] | null;
            logitDiff: components["schemas"]["FloatSides"];
            /** Nodes */
            nodes: components["schemas"]["NodeRow"][];
            objectiveValue: components["schemas"]["FloatSides"];
            /** Position */
            position: number;
            /** Rightrun */
            rightRun: ("prompt" | "baseline") | null;
            tokens: components["schemas"]["IdSides"];
            tokenStrings: components["schemas"]["StringSides"];
            /** Tokensums */
            tokenSums: {
                [key: string]: components["schemas"]["FloatListSides"];
            };
            topLogits: components["schemas"]["LogitSides"];
            verification: components["schemas"]["Verification"] | null;
        };
        /** DebuggerRun */
        DebuggerRun: {
            /** Ablations */
            ablations?: (components["schemas"]["NodeAblation"] | components["schemas"]["SiteAblation"])[];
            /** Compareprompt */
            comparePrompt?: string | number[] | null;
            /** Distractors */
            distractors: (number | string)[];
            /** Families */
            families?: ("embedding" | "neuron" | "head" | "latent" | "mlp_latent" | "attn_latent")[];
            /**
             * K
             * @default 10
             */
            k?: number;
            /**
             * Meansource
             * @default prompt
             * @enum {string}
             */
            meanSource?: "prompt" | "dataset";
            /**
             * Nvocabtokens
             * @default 5
             */
            nVocabTokens?: number;
            /**
             * Position
             * @default -1
             */
            position?: number;
            /** Prompt */
            prompt: string | number[];
            /**
             * Rankon
             * @default left
             * @enum {string}
             */
            rankOn?: "left" | "right" | "diff";
            /** Sourceprompt */
            sourcePrompt?: string | number[] | null;
            /** Targets */
            targets: (number | string)[];
            /**
             * Topnlogits
             * @default 10
             */
            topNLogits?: number;
            trace?: components["schemas"]["TraceSpec"] | null;
            /**
             * Verify
             * @default 0
             */
            verify?: number;
        };
        /** ErrorItem */
        ErrorItem: {
            /** Loc */
            loc: (string | number)[];
            /** Message */
            message: string;
            /** Type */
            type: string;
        };
        /** ErrorResponse */
        ErrorResponse: {
            /** Detail */
            detail: string;
            /** Errors */
            errors?: components["schemas"]["ErrorItem"][] | null;
        };
        /** Example */
        Example: {
            /** Activations */
            activations: (number | null)[];
            /** Id */
            id: number;
            /** Keydistance */
            keyDistance?: number | null;
            /** Keystring */
            keyString?: string | null;
            /** Keytoken */
            keyToken?: number | null;
            /** Position */
            position: number;
            /** Strings */
            strings?: string[] | null;
            /** Tokens */
            tokens: number[];
            /** Value */
            value: number | null;
        };
        /**
         * FloatListSides
         * @description Per token: left and right on each prompt's own tokens, diff on the left's (null where a
         *     left token has no pair in the compare prompt).
         */
        FloatListSides: {
            /** Diff */
            diff?: (number | null)[] | null;
            /** Left */
            left: (number | null)[];
            /** Right */
            right?: (number | null)[] | null;
        };
        /** FloatSides */
        FloatSides: {
            /** Diff */
            diff?: number | null;
            /** Left */
            left: number | null;
            /** Right */
            right?: number | null;
        };
        /** HealthResponse */
        HealthResponse: {
            /** Loaded */
            loaded: boolean;
            /** Loadedmodels */
            loadedModels: string[];
            /** Model */
            model: string;
            /** Pending */
            pending: number;
            /**
             * Status
             * @default ok
             * @constant
             */
            status?: "ok";
        };
        /** Histogram */
        Histogram: {
            /** Counts */
            counts: number[];
            /** Edges */
            edges: (number | null)[];
        };
        /** IdSides */
        IdSides: {
            /** Left */
            left: number[];
            /** Right */
            right?: number[] | null;
        };
        /**
         * Intervention
         * @description `ablate` zeroes the component at every token; `steer` adds its output direction (a
         *     neuron's W_out row, a latent's decoder row) times `strength` at every token.
         */
        Intervention: {
            component: components["schemas"]["ComponentSpec"];
            /**
             * Kind
             * @enum {string}
             */
            kind: "ablate" | "steer";
            /**
             * Strength
             * @default 0
             */
            strength?: number;
        };
        /** Investigation */
        Investigation: {
            /** Behaviour */
            behaviour: string;
            /** Distractors */
            distractors: string[];
            /** Id */
            id: string;
            /** Logitdiff */
            logitDiff: number;
            /** Model */
            model: string;
            /** Prompt */
            prompt: string;
            /** Targets */
            targets: string[];
            /** Title */
            title: string;
        };
        /** InvestigationsResponse */
        InvestigationsResponse: {
            /** Investigations */
            investigations: components["schemas"]["Investigation"][];
        };
        /** LayerSummary */
        LayerSummary: {
            /** By */
            by: string;
            /** Family */
            family: string;
            /** Rows */
            rows: components["schemas"]["SummaryRow"][];
            /** Site */
            site: string;
        };
        /** LensLayer */
        LensLayer: {
            /** Label */
            label: string;
            /** Logitdifference */
            logitDifference: number | null;
            /** Top */
            top: components["schemas"]["LensToken"][];
        };
        /** LensToken */
        LensToken: {
            /** Logit */
            logit: number | null;
            /** Probability */
            probability: number | null;
            /** String */
            string: string;
            /** Token */
            token: number;
        };
        /** Limits */
        Limits: {
            /**
             * Maxk
             * @default 100
             */
            maxK?: number;
            /**
             * Maxnewtokens
             * @default 64
             */
            maxNewTokens?: number;
            /**
             * Maxpromptchars
             * @default 20000
             */
            maxPromptChars?: number;
            /** Maxprompttokens */
            maxPromptTokens: number;
            /**
             * Maxruns
             * @default 8
             */
            maxRuns?: number;
            /**
             * Maxsamples
             * @default 8
             */
            maxSamples?: number;
            /**
             * Maxverify
             * @default 50
             */
            maxVerify?: number;
        };
        /** LogitLensRequest */
        LogitLensRequest: {
            /** Distractors */
            distractors?: (number | string)[];
            /**
             * Position
             * @default -1
             */
            position?: number;
            /** Prompt */
            prompt: string | number[];
            /** Targets */
            targets?: (number | string)[];
            /**
             * Topn
             * @default 10
             */
            topN?: number;
        };
        /** LogitLensResponse */
        LogitLensResponse: {
            /** Directlogitattribution */
            directLogitAttribution: components["schemas"]["ComponentAttribution"][] | null;
            /** Layers */
            layers: components["schemas"]["LensLayer"][];
            /** Model */
            model: string;
            /** Position */
            position: number;
            /** Tokens */
            tokens: number[];
            /** Tokenstrings */
            tokenStrings: string[];
        };
        /** LogitSides */
        LogitSides: {
            /** Left */
            left: components["schemas"]["TokenLogit"][];
            /** Right */
            right?: components["schemas"]["TokenLogit"][] | null;
        };
        /** LogitTables */
        LogitTables: {
            /** Bottom */
            bottom: components["schemas"]["TokenValue"][];
            /** Top */
            top: components["schemas"]["TokenValue"][];
        };
        /** Measure */
        Measure: {
            histogram: components["schemas"]["Histogram"];
            /** Quantiles */
            quantiles: components["schemas"]["Quantile"][];
            /** Random */
            random: components["schemas"]["Example"][];
            stats: components["schemas"]["Stats"];
            /** Top */
            top: components["schemas"]["Example"][];
        };
        /** ModelConfig */
        ModelConfig: {
            /** Actfn */
            actFn: string;
            /** Attnonly */
            attnOnly: boolean;
            /** Dhead */
            dHead: number;
            /** Dmlp */
            dMlp: number;
            /** Dmodel */
            dModel: number;
            /** Dvocab */
            dVocab: number;
            /** Lneps */
            lnEps: number;
            /** Nctx */
            nCtx: number;
            /** Nheads */
            nHeads: number;
            /** Nlayers */
            nLayers: number;
            /** Normalization */
            normalization: string;
            /** Tiedembeddings */
            tiedEmbeddings: boolean;
        };
        /** ModelInfo */
        ModelInfo: {
            /** Autoencoders */
            autoencoders: components["schemas"]["Autoencoder"][];
            config: components["schemas"]["ModelConfig"];
            dataset: components["schemas"]["DatasetInfo"];
            /** Description */
            description: string;
            /** Hastokenizer */
            hasTokenizer: boolean;
            limits: components["schemas"]["Limits"];
            /** Name */
            name: string;
            /** Source */
            source: string;
        };
        /** ModelsResponse */
        ModelsResponse: {
            /** Models */
            models: components["schemas"]["ServedModel"][];
        };
        /**
         * NodeAblation
         * @description Ablate a node of the node table, by its id.
         */
        NodeAblation: {
            /**
             * Constant
             * @default 0
             */
            constant?: number;
            /** Nodeid */
            nodeId: string;
            /**
             * Value
             * @default zero
             * @enum {string}
             */
            value?: "zero" | "constant" | "mean" | "source";
        };
        /** NodeOut */
        NodeOut: {
            /**
             * Family
             * @enum {string}
             */
            family: "embedding" | "neuron" | "head" | "latent";
            /** Id */
            id: string;
            /** Index */
            index: number;
            /** Keytoken */
            keyToken: number | null;
            /** Layer */
            layer: number | null;
            /** Site */
            site: string;
            /** Token */
            token: number;
        };
        /**
         * NodeRow
         * @description A node of the table. Its positions are the prompt's; for a node of the right run alone
         *     (values.left null) the compare prompt's. Pinned nodes (`pins`: ablated node by node, or
         *     traced) come first, listed whatever their values; a node only pinned has no `rankedBy`.
         */
        NodeRow: {
            node: components["schemas"]["NodeOut"];
            /** Pins */
            pins: ("ablated" | "traced")[];
            /** Rankedby */
            rankedBy: string[];
            tokens: components["schemas"]["NodeTokens"];
            values: components["schemas"]["NodeValueSides"];
        };
        /** NodeTokens */
        NodeTokens: {
            /** Inputtop */
            inputTop: components["schemas"]["TokenScore"][] | null;
            /** Outputbottom */
            outputBottom: components["schemas"]["TokenScore"][] | null;
            /** Outputtop */
            outputTop: components["schemas"]["TokenScore"][] | null;
        };
        /** NodeValues */
        NodeValues: {
            /** Activation */
            activation: number | null;
            /** Directeffect */
            directEffect: number | null;
            /** Totaleffect */
            totalEffect: number | null;
            /** Writemagnitude */
            writeMagnitude: number | null;
        };
        /**
         * NodeValueSides
         * @description A run without the node (a token of the other prompt only: prompts of different lengths)
         *     has null, and so has diff.
         */
        NodeValueSides: {
            diff?: components["schemas"]["NodeValues"] | null;
            left: components["schemas"]["NodeValues"] | null;
            right?: components["schemas"]["NodeValues"] | null;
        };
        /** Quantile */
        Quantile: {
            /** Examples */
            examples: components["schemas"]["Example"][];
            /** High */
            high: number | null;
            /** Low */
            low: number | null;
            /** Quantile */
            quantile: number;
        };
        /** Sample */
        Sample: {
            /** Strings */
            strings: string[];
            /** Text */
            text: string;
            /** Tokens */
            tokens: number[];
        };
        /** SamplePair */
        SamplePair: {
            intervened: components["schemas"]["Sample"];
            plain: components["schemas"]["Sample"];
        };
        /** SamplingRequest */
        SamplingRequest: {
            /** Interventions */
            interventions: components["schemas"]["Intervention"][];
            /**
             * Maxnewtokens
             * @default 20
             */
            maxNewTokens?: number;
            /**
             * Nsamples
             * @default 1
             */
            nSamples?: number;
            /** Prompt */
            prompt: string | number[];
            /**
             * Seed
             * @default 0
             */
            seed?: number;
            /**
             * Temperature
             * @default 0
             */
            temperature?: number;
            /**
             * Topp
             * @default 1
             */
            topP?: number;
        };
        /** SamplingResponse */
        SamplingResponse: {
            /** Model */
            model: string;
            /** Promptstrings */
            promptStrings: string[];
            /** Prompttokens */
            promptTokens: number[];
            /** Samples */
            samples: components["schemas"]["SamplePair"][];
        };
        /** ServedModel */
        ServedModel: {
            /** Datasetavailable */
            datasetAvailable: boolean;
            /** Default */
            default: boolean;
            /** Description */
            description: string;
            /** Loaded */
            loaded: boolean;
            /** Name */
            name: string;
        };
        /**
         * SiteAblation
         * @description Ablate at a hook site (see `activations.ablations`): a token and an index, null for all.
         */
        SiteAblation: {
            /**
             * Constant
             * @default 0
             */
            constant?: number;
            /** Index */
            index?: number | null;
            /** Keytoken */
            keyToken?: number | null;
            /** Site */
            site: string;
            /** Token */
            token?: number | null;
            /**
             * Value
             * @default zero
             * @enum {string}
             */
            value?: "zero" | "constant" | "mean" | "source";
        };
        /** Stats */
        Stats: {
            /** Count */
            count: number;
            /** Density */
            density: number | null;
            /** Kurtosis */
            kurtosis: number | null;
            /** Max */
            max: number | null;
            /** Mean */
            mean: number | null;
            /** Nonzero */
            nonzero: number;
            /** Skew */
            skew: number | null;
            /** Variance */
            variance: number | null;
        };
        /** StringSides */
        StringSides: {
            /** Left */
            left: string[];
            /** Right */
            right?: string[] | null;
        };
        /** SummaryRow */
        SummaryRow: {
            /** Density */
            density: number | null;
            /** Index */
            index: number;
            /** Kurtosis */
            kurtosis: number | null;
            /** Max */
            max: number | null;
            /** Mean */
            mean: number | null;
            /** Skew */
            skew: number | null;
            /** Variance */
            variance: number | null;
        };
        /**
         * TokenAlignment
         * @description How the tokens of the two runs pair up: right-aligned, right index = left index +
         *     offset (0 for prompts of one length); per token of each run, its pair in the other, or
         *     null.
         */
        TokenAlignment: {
            /** Lefttoright */
            leftToRight: (number | null)[];
            /** Offset */
            offset: number;
            /** Righttoleft */
            rightToLeft: (number | null)[];
        };
        /** TokenizeRequest */
        TokenizeRequest: {
            /** Text */
            text: string;
        };
        /** TokenizeResponse */
        TokenizeResponse: {
            /** Ids */
            ids: number[];
            /** Strings */
            strings: string[];
        };
        /** TokenLogit */
        TokenLogit: {
            /** Logit */
            logit: number | null;
            /** Probability */
            probability: number | null;
            /** Rank */
            rank: number;
            /** Role */
            role: ("target" | "distractor") | null;
            /** String */
            string: string;
            /** Token */
            token: number;
        };
        /** TokenScore */
        TokenScore: {
            /** String */
            string: string;
            /** Token */
            token: number;
            /** Value */
            value: number | null;
        };
        /** TokenValue */
        TokenValue: {
            /** String */
            string: string | null;
            /** Token */
            token: number;
            /** Value */
            value: number | null;
        };
        /** TraceSpec */
        TraceSpec: {
            downstream?: components["schemas"]["TraceTarget"] | null;
            /** Index */
            index: number;
            /** Keytoken */
            keyToken?: number | null;
            /**
             * Kind
             * @enum {string}
             */
            kind: "neuron_pre" | "latent_pre" | "head_query" | "head_key" | "head_qk" | "head_value";
            /** Layer */
            layer?: number | null;
            /** Site */
            site?: string | null;
            /** Token */
            token: number;
        };
        /**
         * TraceTarget
         * @description A node whose quantity (pre-activation, or a head pair's query/key/qk/value) is traced.
         *     Neurons and heads name a layer, latents their autoencoder's site; negative tokens count
         *     from the end of the prompt.
         */
        TraceTarget: {
            /** Index */
            index: number;
            /** Keytoken */
            keyToken?: number | null;
            /**
             * Kind
             * @enum {string}
             */
            kind: "neuron_pre" | "latent_pre" | "head_query" | "head_key" | "head_qk" | "head_value";
            /** Layer */
            layer?: number | null;
            /** Site */
            site?: string | null;
            /** Token */
            token: number;
        };
        /** Verification */
        Verification: {
            /** Baseline */
            baseline: number | null;
            /** Nodes */
            nodes: components["schemas"]["VerifiedNode"][];
            /** Pearson */
            pearson: number | null;
        };
        /** VerifiedNode */
        VerifiedNode: {
            /** Estimate */
            estimate: number | null;
            node: components["schemas"]["NodeOut"];
            /** Trueeffect */
            trueEffect: number | null;
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    "activations-read_activations": {
        parameters: {
            query?: {
                /** @description a served model (see /api/models); default: the server's default model */
                model?: string | null;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ActivationsRequest"];
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ActivationsResponse"];
                };
            };
            /** @description Invalid value for this model, an unknown Host header, a body past its bounds, or a model job whose estimated cost is over the server's budget (the detail gives the estimate, the budget and what to reduce; see activation_server/costs.py) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Missing or wrong token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The server does not serve the model asked for (`?model=`); the detail lists the served models */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Request body over the limit */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Request body not sent as JSON (Content-Type: application/json) */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Request body or parameters fail their schema */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Unexpected server error (details in the server log) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Model queue full; retry after Retry-After seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    "datasets-read_record": {
        parameters: {
            query?: {
                /** @description a served model (see /api/models); default: the server's default model */
                model?: string | null;
                /** @description default: the served model's */
                store?: string | null;
            };
            header?: never;
            path: {
                family: "neuron" | "head" | "latent";
                index: number;
                /** @description a layer number, or the group's site (latents: the autoencoder's latent site) */
                layer: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ComponentRecord"];
                };
            };
            /** @description Invalid value for this model, an unknown Host header, a body past its bounds, or a model job whose estimated cost is over the server's budget (the detail gives the estimate, the budget and what to reduce; see activation_server/costs.py) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Missing or wrong token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No such collation store, group or component, or a model the server does not serve (`?model=`) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The collation store belongs to another model */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Request body over the limit */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Request body not sent as JSON (Content-Type: application/json) */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Request body or parameters fail their schema */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Unexpected server error (details in the server log) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Model queue full, or the store is being collated (with its progress) or its collation is restarting: retry after Retry-After seconds. Without Retry-After: the store is damaged or its collation failed; the message names the command to run */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    "datasets-read_summary": {
        parameters: {
            query?: {
                ascending?: boolean;
                by?: "kurtosis" | "density" | "max" | "mean" | "variance" | "skew";
                limit?: number;
                measure?: ("activation" | "attention" | "write_norm") | null;
                /** @description a served model (see /api/models); default: the server's default model */
                model?: string | null;
                /** @description default: the served model's */
                store?: string | null;
            };
            header?: never;
            path: {
                family: "neuron" | "head" | "latent";
                /** @description a layer number, or the group's site (latents: the autoencoder's latent site) */
                layer: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["LayerSummary"];
                };
            };
            /** @description Invalid value for this model, an unknown Host header, a body past its bounds, or a model job whose estimated cost is over the server's budget (the detail gives the estimate, the budget and what to reduce; see activation_server/costs.py) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Missing or wrong token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No such collation store, group or component, or a model the server does not serve (`?model=`) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The collation store belongs to another model */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Request body over the limit */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Request body not sent as JSON (Content-Type: application/json) */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Request body or parameters fail their schema */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Unexpected server error (details in the server log) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Model queue full, or the store is being collated (with its progress) or its collation is restarting: retry after Retry-After seconds. Without Retry-After: the store is damaged or its collation failed; the message names the command to run */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    "debugger-attribute_runs": {
        parameters: {
            query?: {
                /** @description a served model (see /api/models); default: the server's default model */
                model?: string | null;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["DebuggerRequest"];
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DebuggerResponse"];
                };
            };
            /** @description Invalid value for this model, an unknown Host header, a body past its bounds, or a model job whose estimated cost is over the server's budget (the detail gives the estimate, the budget and what to reduce; see activation_server/costs.py) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Missing or wrong token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No such collation store, group or component, or a model the server does not serve (`?model=`) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The collation store belongs to another model */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Request body over the limit */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Request body not sent as JSON (Content-Type: application/json) */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Request body or parameters fail their schema */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Unexpected server error (details in the server log) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Model queue full, or the store is being collated (with its progress) or its collation is restarting: retry after Retry-After seconds. Without Retry-After: the store is damaged or its collation failed; the message names the command to run */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    "debugger-read_logit_lens": {
        parameters: {
            query?: {
                /** @description a served model (see /api/models); default: the server's default model */
                model?: string | null;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["LogitLensRequest"];
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["LogitLensResponse"];
                };
            };
            /** @description Invalid value for this model, an unknown Host header, a body past its bounds, or a model job whose estimated cost is over the server's budget (the detail gives the estimate, the budget and what to reduce; see activation_server/costs.py) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Missing or wrong token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The server does not serve the model asked for (`?model=`); the detail lists the served models */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Request body over the limit */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Request body not sent as JSON (Content-Type: application/json) */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Request body or parameters fail their schema */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Unexpected server error (details in the server log) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Model queue full; retry after Retry-After seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    "health-read_health": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HealthResponse"];
                };
            };
            /** @description Invalid value for this model, an unknown Host header, a body past its bounds, or a model job whose estimated cost is over the server's budget (the detail gives the estimate, the budget and what to reduce; see activation_server/costs.py) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Missing or wrong token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Request body over the limit */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Request body not sent as JSON (Content-Type: application/json) */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Request body or parameters fail their schema */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Unexpected server error (details in the server log) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Model queue full; retry after Retry-After seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    "investigations-list_investigations": {
        parameters: {
            query?: {
                allModels?: boolean;
                /** @description a served model (see /api/models); default: the server's default model */
                model?: string | null;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["InvestigationsResponse"];
                };
            };
            /** @description Invalid value for this model, an unknown Host header, a body past its bounds, or a model job whose estimated cost is over the server's budget (the detail gives the estimate, the budget and what to reduce; see activation_server/costs.py) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Missing or wrong token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The server does not serve the model asked for (`?model=`); the detail lists the served models */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Request body over the limit */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Request body not sent as JSON (Content-Type: application/json) */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Request body or parameters fail their schema */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Unexpected server error (details in the server log) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Model queue full; retry after Retry-After seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    "model-read_model": {
        parameters: {
            query?: {
                /** @description a served model (see /api/models); default: the server's default model */
                model?: string | null;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ModelInfo"];
                };
            };
            /** @description Invalid value for this model, an unknown Host header, a body past its bounds, or a model job whose estimated cost is over the server's budget (the detail gives the estimate, the budget and what to reduce; see activation_server/costs.py) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Missing or wrong token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The server does not serve the model asked for (`?model=`); the detail lists the served models */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Request body over the limit */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Request body not sent as JSON (Content-Type: application/json) */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Request body or parameters fail their schema */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Unexpected server error (details in the server log) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Model queue full; retry after Retry-After seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    "model-tokenize": {
        parameters: {
            query?: {
                /** @description a served model (see /api/models); default: the server's default model */
                model?: string | null;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["TokenizeRequest"];
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TokenizeResponse"];
                };
            };
            /** @description Invalid value for this model, an unknown Host header, a body past its bounds, or a model job whose estimated cost is over the server's budget (the detail gives the estimate, the budget and what to reduce; see activation_server/costs.py) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Missing or wrong token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The server does not serve the model asked for (`?model=`); the detail lists the served models */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Request body over the limit */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Request body not sent as JSON (Content-Type: application/json) */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Request body or parameters fail their schema */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Unexpected server error (details in the server log) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Model queue full; retry after Retry-After seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    "models-list_models": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ModelsResponse"];
                };
            };
            /** @description Invalid value for this model, an unknown Host header, a body past its bounds, or a model job whose estimated cost is over the server's budget (the detail gives the estimate, the budget and what to reduce; see activation_server/costs.py) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Missing or wrong token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Request body over the limit */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Request body not sent as JSON (Content-Type: application/json) */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Request body or parameters fail their schema */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Unexpected server error (details in the server log) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Model queue full; retry after Retry-After seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    "sampling-sample": {
        parameters: {
            query?: {
                /** @description a served model (see /api/models); default: the server's default model */
                model?: string | null;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["SamplingRequest"];
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SamplingResponse"];
                };
            };
            /** @description Invalid value for this model, an unknown Host header, a body past its bounds, or a model job whose estimated cost is over the server's budget (the detail gives the estimate, the budget and what to reduce; see activation_server/costs.py) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Missing or wrong token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The server does not serve the model asked for (`?model=`); the detail lists the served models */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Request body over the limit */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Request body not sent as JSON (Content-Type: application/json) */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Request body or parameters fail their schema */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Unexpected server error (details in the server log) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Model queue full; retry after Retry-After seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
}
