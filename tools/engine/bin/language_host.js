// A Node.js language host for the real Pulumi CLI in this repository's CI (`make engine` puts it beside the CLI).
//
// Pulumi's own host is the Go module github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3, which the Go
// module proxy reachable here does not serve (`go list -m -versions` of it answers 403). The CLI, the engine and the
// SDK's program runtime are Pulumi's; only this launcher is ours. It serves the Node.js SDK's own LanguageServer
// (@pulumi/pulumi/automation/server, what the Automation API starts for an inline program), handing it the program
// the engine names: `<program directory>/<entry point>`, a directory meaning its package.json `main`, required
// in-process with ts-node registered for TypeScript (the runtime option `typescript`, true unless set false), as
// Pulumi's run.js does for CommonJS programs.
//
// @pulumi/pulumi, @grpc/grpc-js and ts-node are the project's own (resolved from its directory), so the program and
// the server share one SDK instance. What it does not do, unlike Pulumi's host: install dependencies (run `npm
// install` first), report required plugins or packages (it reports none), ES module programs, and code generation
// (`pulumi import --out`, `convert`, `package add`/`gen-sdk` for Node.js need Pulumi's host).
//
//     pulumi-language-nodejs [-flags ...] ENGINE_ADDRESS
"use strict";
const fs = require("fs");
const path = require("path");

const projectRequire = (name) => require(require.resolve(name, { paths: [process.cwd()] }));
const sdkDir = path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [process.cwd()] }));
const sdkRequire = (name) => require(require.resolve(name, { paths: [sdkDir] }));
const grpc = sdkRequire("@grpc/grpc-js");
const { LanguageServer } = projectRequire("@pulumi/pulumi/automation/server");
const langrpc = projectRequire("@pulumi/pulumi/proto/language_grpc_pb");
const langproto = projectRequire("@pulumi/pulumi/proto/language_pb");
const plugproto = projectRequire("@pulumi/pulumi/proto/plugin_pb");
const { grpcChannelOptions } = projectRequire("@pulumi/pulumi/runtime/settings");

let tsRegistered = false;

// ts-node with the project's tsconfig.json (or CommonJS defaults without one), as Pulumi's run.js registers it.
function registerTypeScript(directory) {
    if (tsRegistered) {
        return;
    }
    const tsconfig = path.join(directory, process.env.PULUMI_NODEJS_TSCONFIG_PATH || "tsconfig.json");
    const paths = { paths: [directory, sdkDir] };
    require(require.resolve("ts-node", paths)).register({
        compiler: require.resolve("typescript", paths),
        project: tsconfig,
        skipProject: !fs.existsSync(tsconfig),
        transpileOnly: process.env.PULUMI_NODEJS_TRANSPILE_ONLY === "true",
        compilerOptions: fs.existsSync(tsconfig) ? {} : { target: "ES2020", module: "commonjs", moduleResolution: "node" },
    });
    tsRegistered = true;
}

function programOf(request) {
    const info = request.getInfo();
    const directory = (info && info.getProgramDirectory()) || request.getPwd();
    const entry = (info && info.getEntryPoint()) || request.getProgram() || ".";
    const options = info && info.getOptions() ? info.getOptions().toJavaScript() : {};
    return { directory, file: path.resolve(directory, entry), typescript: options.typescript !== false };
}

class ProgramHost extends LanguageServer {
    constructor(engineAddress) {
        super(() => undefined);
        this.engineAddress = engineAddress;
    }

    handshake(call, callback) {
        callback(undefined, new langproto.LanguageHandshakeResponse());
    }

    getPluginInfo(call, callback) {
        const info = new plugproto.PluginInfo();
        info.setVersion("3.0.0");
        callback(undefined, info);
    }

    getRequiredPackages(call, callback) {
        callback(undefined, new langproto.GetRequiredPackagesResponse());
    }

    getProgramDependencies(call, callback) {
        callback(undefined, new langproto.GetProgramDependenciesResponse());
    }

    runtimeOptionsPrompts(call, callback) {
        callback(undefined, new langproto.RuntimeOptionsResponse());
    }

    installDependencies(call) {
        call.end();
    }

    run(call, callback) {
        const program = programOf(call.request);
        if (!fs.existsSync(program.file)) {
            const response = new langproto.RunResponse();
            response.setError(`no Node.js program at ${program.file}`);
            return callback(undefined, response);
        }
        process.chdir(call.request.getPwd() || program.directory);
        if (program.typescript) {
            registerTypeScript(program.directory);
        }
        this.program = () => {
            const exported = require(fs.statSync(program.file).isDirectory() ? program.file + path.sep : program.file);
            return exported instanceof Function ? exported() : exported;
        };
        // LanguageServer reads the engine's address from args[0].
        call.request.setArgsList([this.engineAddress]);
        return super.run(call, callback);
    }
}

function main(argv) {
    const positional = argv.filter((a) => !a.startsWith("-"));
    const server = new grpc.Server({ ...grpcChannelOptions });
    server.addService(langrpc.LanguageRuntimeService, new ProgramHost(positional[positional.length - 1] || ""));
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
        if (err) {
            console.error(err.message);
            process.exit(1);
        }
        console.log(port); // the engine reads the port from the first line
    });
    // the engine ends its plugins with SIGINT: a plugin's exit, not an error to print
    process.on("SIGINT", () => server.tryShutdown(() => process.exit(0)));
}

main(process.argv.slice(2));
