// Lambdaport's Node.js runtime client: speaks the Lambda Runtime API (2018-06-01) like AWS's
// aws-lambda-ric, with only Node's standard library.
import http from 'node:http';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import util from 'node:util';
import { Writable } from 'node:stream';

const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const BASE = '/2018-06-01/runtime';

function call(method, urlPath, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host, port, method, path: BASE + urlPath, agent, headers },
      (response) => {
        const chunks = [];
        response.on('data', (c) => chunks.push(c));
        response.on('end', () => resolve({ headers: response.headers, body: Buffer.concat(chunks) }));
      },
    );
    request.on('error', reject);
    if (body !== undefined) request.write(body);
    request.end();
  });
}

function errorBody(error) {
  const e = error instanceof Error ? error : new Error(String(error));
  return {
    errorType: e.name || 'Error',
    errorMessage: e.message,
    trace: (e.stack || '').split('\n'),
  };
}

async function initError(errorType, errorMessage) {
  const body = { errorType, errorMessage, trace: [] };
  console.error(`${new Date().toISOString()}\tundefined\tERROR\t${JSON.stringify(body)}`);
  await call('POST', '/init/error', JSON.stringify(body), { 'Lambda-Runtime-Function-Error-Type': errorType });
  process.exit(1);
}

// Response streaming, as AWS's Node.js runtimes offer it: `awslambda.streamifyResponse(handler)`
// and `awslambda.HttpResponseStream.from(stream, { statusCode, headers })` for Function URLs.
const STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const HTTP_INTEGRATION = 'application/vnd.awslambda.http-integration-response';
globalThis.awslambda = {
  streamifyResponse(fn) {
    fn[STREAMING] = 'response';
    return fn;
  },
  HttpResponseStream: {
    from(stream, prelude) {
      stream.setContentType(HTTP_INTEGRATION);
      stream.write(JSON.stringify(prelude));
      stream.write(Buffer.alloc(8));
      return stream;
    },
  },
};

// The response stream handed to a streaming handler: a chunked POST in streaming mode, opened on
// the first write so the content type can still be set; errors go in the trailers.
function responseStream(requestId) {
  let contentType = 'application/octet-stream';
  let request;
  let finished;
  const open = () => {
    if (request) return request;
    request = http.request({
      host, port, method: 'POST', agent,
      path: `${BASE}/invocation/${requestId}/response`,
      headers: {
        'Lambda-Runtime-Function-Response-Mode': 'streaming',
        'Transfer-Encoding': 'chunked',
        'Content-Type': contentType,
        Trailer: 'Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body',
      },
    });
    finished = new Promise((resolve, reject) => {
      request.on('response', (response) => {
        response.resume();
        response.on('end', resolve);
      });
      request.on('error', reject);
    });
    return request;
  };
  const stream = new Writable({
    write(chunk, _encoding, done) {
      open().write(chunk, done);
    },
    final(done) {
      open().end();
      done();
    },
  });
  stream.setContentType = (type) => {
    contentType = type;
  };
  stream.fail = (error) => {
    const body = errorBody(error);
    const r = open();
    r.addTrailers({
      'Lambda-Runtime-Function-Error-Type': body.errorType,
      'Lambda-Runtime-Function-Error-Body': Buffer.from(JSON.stringify(body)).toString('base64'),
    });
    r.end();
  };
  stream.done = () => {
    open();
    return finished;
  };
  return stream;
}

let currentRequestId;
for (const [method, level] of [['log', 'INFO'], ['info', 'INFO'], ['warn', 'WARN'], ['error', 'ERROR'], ['debug', 'DEBUG']]) {
  const write = method === 'error' || method === 'warn' ? process.stderr : process.stdout;
  console[method] = (...args) => {
    write.write(`${new Date().toISOString()}\t${currentRequestId}\t${level}\t${util.format(...args)}\n`);
  };
}

async function loadHandler() {
  const handler = process.env._HANDLER;
  const dot = handler.lastIndexOf('.');
  if (dot < 1) await initError('Runtime.MalformedHandlerName', `Bad handler ${handler}`);
  const modulePath = handler.slice(0, dot);
  const exportName = handler.slice(dot + 1);
  const root = process.env.LAMBDA_TASK_ROOT;
  const file = ['.js', '.mjs', '.cjs'].map((ext) => path.join(root, modulePath + ext)).find(existsSync);
  if (!file) await initError('Runtime.ImportModuleError', `Error: Cannot find module '${modulePath}'`);
  let module;
  try {
    module = await import(pathToFileURL(file).href);
  } catch (error) {
    await initError('Runtime.UserCodeSyntaxError', String(error));
  }
  const fn = module[exportName] ?? module.default?.[exportName];
  if (typeof fn !== 'function') {
    await initError('Runtime.HandlerNotFound', `${handler} is undefined or not exported`);
  }
  return fn;
}

function invokeHandler(fn, event, context) {
  return new Promise((resolve, reject) => {
    const callback = (error, result) => (error ? reject(error) : resolve(result));
    try {
      const returned = fn(event, context, callback);
      if (returned && typeof returned.then === 'function') returned.then(resolve, reject);
      else if (fn.length < 3) resolve(returned);
    } catch (error) {
      reject(error);
    }
  });
}

const handler = await loadHandler();
for (;;) {
  const next = await call('GET', '/invocation/next');
  const requestId = next.headers['lambda-runtime-aws-request-id'];
  const deadline = Number(next.headers['lambda-runtime-deadline-ms'] || 0);
  currentRequestId = requestId;
  process.env._X_AMZN_TRACE_ID = next.headers['lambda-runtime-trace-id'] || '';
  const context = {
    awsRequestId: requestId,
    invokedFunctionArn: next.headers['lambda-runtime-invoked-function-arn'],
    tenantId: next.headers['lambda-runtime-aws-tenant-id'],
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  if (handler[STREAMING]) {
    const stream = responseStream(requestId);
    try {
      const event = next.body.length ? JSON.parse(next.body.toString()) : {};
      await handler(event, stream, context);
      if (!stream.writableFinished) {
        if (!stream.writableEnded) stream.end();
        await new Promise((resolve) => stream.once('finish', resolve));
      }
    } catch (error) {
      console.error(JSON.stringify(errorBody(error)));
      stream.fail(error);
    }
    await stream.done();
    continue;
  }
  try {
    const event = next.body.length ? JSON.parse(next.body.toString()) : {};
    const result = await invokeHandler(handler, event, context);
    await call('POST', `/invocation/${requestId}/response`, JSON.stringify(result ?? null));
  } catch (error) {
    const body = errorBody(error);
    console.error(JSON.stringify(body));
    await call('POST', `/invocation/${requestId}/error`, JSON.stringify(body), {
      'Lambda-Runtime-Function-Error-Type': body.errorType,
    });
  }
}
