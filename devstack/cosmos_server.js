// Starts the Cosmos DB stand-in (@vercel/cosmosdb-server) for the local stack.
//
// Three things differ from the package's own CLI, all on purpose:
// - keep-alive connections: the CLI closes every connection, which makes writes ~20x slower;
// - reading a missing document answers 404 NotFound (as Cosmos DB does) instead of a 500
//   thrown from inside the package's read handler;
// - a query reads the container in linear time: the query compiler collects the items with a
//   reduce that copies its accumulator for every item (quadratic: 20,000 items took 3 s a page,
//   100,000 over a minute, past the SDK's read timeout). The same items, in the same order.
"use strict";

const path = require("path");

const libDir = path.dirname(require.resolve("@vercel/cosmosdb-server"));
// Patch the handler module before the router captures it.
const readDocument = require(path.join(libDir, "handler", "read-document"));
const originalReadDocument = readDocument.default;
readDocument.default = (account, req, res, params) => {
  try {
    return originalReadDocument(account, req, res, params);
  } catch (err) {
    if (err instanceof TypeError) {
      res.statusCode = 404;
      return {
        code: "NotFound",
        message: "Entity with the specified id does not exist in the system.",
      };
    }
    throw err;
  }
};

// Patch the compiled query code before the first query is compiled.
const compile = require(require.resolve("@zeit/cosmosdb-query", { paths: [libDir] })).default;
const Query = Object.getPrototypeOf(compile("SELECT * FROM c"));
const compiledCode = Object.getOwnPropertyDescriptor(Query, "code").get;
const copyingCollect = /\$c\.reduce\(\(\$, (\w+)\) => typeof \1 !== "undefined" \? \[\.\.\.\$, \{\s*\1: \1\s*\}\] : \$, \[\]\)/g;
Object.defineProperty(Query, "code", {
  get() {
    return compiledCode
      .call(this)
      .replace(copyingCollect, (_, alias) => `$c.filter((${alias}) => typeof ${alias} !== "undefined").map((${alias}) => ({ ${alias} }))`);
  },
});

const { createHttpsServer } = require("@vercel/cosmosdb-server");

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  return at >= 0 && args[at + 1] ? args[at + 1] : fallback;
};
const host = option("--host", "127.0.0.1");
const port = parseInt(option("--port", "8081"), 10);

const server = createHttpsServer({ keepAlive: true });
server.keepAliveTimeout = 65000;
server.listen(port, host, () => {
  console.log(`cosmos listening on https://${host}:${port}/`);
});

const stop = () => server.close(() => process.exit(0));
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
