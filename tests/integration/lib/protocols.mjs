// One adapter per client protocol anygpt serves, each driving that protocol's official SDK
// (tests/integration/node_modules) with the request built in the SDK's native shape. All adapters
// share one interface, so a scenario can run unchanged through every protocol:
//
//   req = { model, system?, turns: [{role: 'user'|'assistant', text}], tools?: [{name, description,
//           parameters (JSON schema, lower-case types)}], toolResult?: {id, name, args, result},
//           image?: {mime, base64}, imageUrl?: {url, mime?} (a remote image; Ollama cannot express it:
//           its adapter throws a NotExpressible error), maxTokens? }
//   chat(gw, key, req)   -> { text, toolCalls: [{id, name, args}], finish: 'stop'|'length'|'tool'|<raw>, usage: {input, output} }
//   stream(gw, key, req) -> the same plus deltas (texts in arrival order), times (Date.now() at each
//                           delta), startedAt, endedAt (when the stream ended)
//   errorStatus(e)       -> the HTTP status carried by the SDK's error
//   errorMessage(e)      -> the error message the SDK surfaced
//   errorProblem(e)      -> a string when the SDK could not read the error as its own typed error, else null
//   sendsToolIds         -> whether the protocol carries tool-call ids (Ollama's does not)
//
// toolResult is appended after the turns: an assistant turn with that call, then its result.
// `responses` is the OpenAI Responses API (/v1/responses) through the same `openai` SDK.
// SDK retries are off everywhere so failures are immediate and deterministic.
import OpenAI from 'openai';
import Groq from 'groq-sdk';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import { Ollama } from 'ollama';
import { OpenRouter } from '@openrouter/sdk';

const TIMEOUT_MS = 10000;
const dataUrl = (img) => `data:${img.mime};base64,${img.base64}`;
// The URL an OpenAI-shaped image part carries: the remote URL, else the inline image as a data URL.
const imagePartUrl = (req) => (req.imageUrl ? req.imageUrl.url : dataUrl(req.image));
const hasImage = (req) => Boolean(req.image || req.imageUrl);
// Thrown by an adapter for a request its protocol cannot express (before anything is sent).
export class NotExpressible extends Error { constructor(msg) { super(msg); this.name = 'NotExpressible'; } }
const parseArgs = (s) => { try { return typeof s === 'string' ? JSON.parse(s || '{}') : s ?? {}; } catch { return { __unparsable: s }; } };
const openaiFinish = (f) => ({ stop: 'stop', length: 'length', tool_calls: 'tool', function_call: 'tool' }[f] ?? f ?? null);

// ---------------------------------------------------------------------------------------------
// OpenAI chat shape (openai, groq-sdk): snake_case on the wire and in the SDK.
function openaiMessages(req) {
  const msgs = [];
  if (req.system) msgs.push({ role: 'system', content: req.system });
  req.turns.forEach((t, i) => {
    const last = i === req.turns.length - 1;
    if (t.role === 'user' && last && hasImage(req) && !req.toolResult)
      msgs.push({ role: 'user', content: [{ type: 'text', text: t.text }, { type: 'image_url', image_url: { url: imagePartUrl(req) } }] });
    else msgs.push({ role: t.role, content: t.text });
  });
  if (req.toolResult) {
    const r = req.toolResult;
    msgs.push({ role: 'assistant', content: null,
                tool_calls: [{ id: r.id, type: 'function', function: { name: r.name, arguments: JSON.stringify(r.args) } }] });
    msgs.push({ role: 'tool', tool_call_id: r.id, content: r.result });
  }
  return msgs;
}

function openaiBody(req) {
  const body = { model: req.model, messages: openaiMessages(req) };
  if (req.tools) body.tools = req.tools.map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.parameters } }));
  if (req.maxTokens) body.max_tokens = req.maxTokens;
  return body;
}

async function openaiChat(client, req) {
  const r = await client.chat.completions.create(openaiBody(req));
  const c = r.choices[0];
  return {
    text: c.message.content ?? '',
    toolCalls: (c.message.tool_calls ?? []).map((t) => ({ id: t.id, name: t.function.name, args: parseArgs(t.function.arguments) })),
    finish: openaiFinish(c.finish_reason),
    usage: r.usage ? { input: r.usage.prompt_tokens, output: r.usage.completion_tokens } : null,
  };
}

// Accumulates OpenAI-style chunks (snake_case or camelCase, for OpenRouter's SDK).
function chunkAccumulator() {
  const out = { deltas: [], times: [], text: '', toolCalls: [], finish: null, usage: null, startedAt: Date.now(), endedAt: null };
  const slots = [];
  return {
    out,
    add(chunk) {
      for (const c of chunk.choices ?? []) {
        if (c.index !== 0) continue;
        const d = c.delta ?? {};
        if (typeof d.content === 'string' && d.content) { out.deltas.push(d.content); out.times.push(Date.now()); out.text += d.content; }
        for (const tc of d.tool_calls ?? d.toolCalls ?? []) {
          const s = (slots[tc.index ?? 0] ??= { id: '', name: '', arguments: '' });
          if (tc.id) s.id = tc.id;
          if (tc.function?.name) s.name += tc.function.name;
          if (tc.function?.arguments) s.arguments += tc.function.arguments;
        }
        const f = c.finish_reason ?? c.finishReason;
        if (f) out.finish = openaiFinish(f);
      }
      const u = chunk.usage;
      if (u) out.usage = { input: u.prompt_tokens ?? u.promptTokens, output: u.completion_tokens ?? u.completionTokens };
    },
    done() {
      out.endedAt = Date.now();
      out.toolCalls = slots.filter(Boolean).map((s) => ({ id: s.id, name: s.name, args: parseArgs(s.arguments) }));
      return out;
    },
  };
}

async function openaiStream(client, req) {
  const acc = chunkAccumulator();
  const stream = await client.chat.completions.create({ ...openaiBody(req), stream: true, stream_options: { include_usage: true } });
  for await (const chunk of stream) acc.add(chunk);
  return acc.done();
}

const sdkStatus = (e) => e?.status;
const sdkMessage = (e) => String(e?.error?.message ?? e?.message ?? e);

function openaiLike(name, make) {
  return {
    name, sendsToolIds: true,
    chat: (gw, key, req) => openaiChat(make(gw, key), req),
    stream: (gw, key, req) => openaiStream(make(gw, key), req),
    errorStatus: sdkStatus,
    errorMessage: sdkMessage,
    errorProblem: (e) => (typeof e?.status === 'number' ? null : `not an APIError with a status: ${e?.constructor?.name}: ${e?.message}`),
  };
}

export const openai = openaiLike('openai', (gw, key) => new OpenAI({ apiKey: key, baseURL: `${gw.url}/v1`, maxRetries: 0, timeout: TIMEOUT_MS }));
export const groq = openaiLike('groq', (gw, key) => new Groq({ apiKey: key, baseURL: `${gw.url}/v4`, maxRetries: 0, timeout: TIMEOUT_MS }));

// ---------------------------------------------------------------------------------------------
// OpenAI Responses API (/v1/responses, the same `openai` SDK): input items, instructions, flat
// function tools, max_output_tokens; answers are Response objects, streams typed events.
function responsesParams(req) {
  const input = req.turns.map((t, i) => {
    const last = i === req.turns.length - 1;
    if (t.role === 'user' && last && hasImage(req) && !req.toolResult)
      return { role: 'user', content: [{ type: 'input_text', text: t.text }, { type: 'input_image', image_url: imagePartUrl(req), detail: 'auto' }] };
    return { role: t.role, content: t.text };
  });
  if (req.toolResult) {
    const r = req.toolResult;
    input.push({ type: 'function_call', call_id: r.id, name: r.name, arguments: JSON.stringify(r.args) });
    input.push({ type: 'function_call_output', call_id: r.id, output: r.result });
  }
  const params = { model: req.model, input };
  if (req.system) params.instructions = req.system;
  if (req.tools) params.tools = req.tools.map((t) => ({ type: 'function', name: t.name, description: t.description, parameters: t.parameters }));
  if (req.maxTokens) params.max_output_tokens = req.maxTokens;
  return params;
}
function responsesResult(r) {
  const calls = r.output.filter((o) => o.type === 'function_call');
  const incomplete = r.status === 'incomplete' && r.incomplete_details?.reason;
  return {
    text: r.output_text ?? '',
    toolCalls: calls.map((c) => ({ id: c.call_id, name: c.name, args: parseArgs(c.arguments) })),
    finish: incomplete ? ({ max_output_tokens: 'length' }[incomplete] ?? incomplete) : calls.length ? 'tool' : 'stop',
    usage: r.usage ? { input: r.usage.input_tokens, output: r.usage.output_tokens } : null,
  };
}
const responsesClient = (gw, key) => new OpenAI({ apiKey: key, baseURL: `${gw.url}/v1`, maxRetries: 0, timeout: TIMEOUT_MS });

export const responses = {
  name: 'responses', sendsToolIds: true,
  chat: async (gw, key, req) => responsesResult(await responsesClient(gw, key).responses.create(responsesParams(req))),
  async stream(gw, key, req) {
    const out = { deltas: [], times: [], startedAt: Date.now(), endedAt: null };
    const stream = responsesClient(gw, key).responses.stream(responsesParams(req));
    try {
      for await (const e of stream) if (e.type === 'response.output_text.delta' && e.delta) { out.deltas.push(e.delta); out.times.push(Date.now()); }
      const final = await stream.finalResponse();
      out.endedAt = Date.now();
      return { ...out, ...responsesResult(final) };
    } catch (e) {
      // The SDK's helper rejects with the stream's `error` event itself, which is not an Error.
      throw e instanceof Error ? e : Object.assign(new Error(`stream error event: ${e?.message ?? JSON.stringify(e)}`), { event: e });
    }
  },
  errorStatus: sdkStatus,
  errorMessage: sdkMessage,
  errorProblem: (e) => (typeof e?.status === 'number' ? null : `not an APIError with a status: ${e?.constructor?.name}: ${e?.message}`),
};

// ---------------------------------------------------------------------------------------------
// Anthropic Messages: content blocks, top-level system, max_tokens required.
function anthropicBody(req) {
  const messages = req.turns.map((t, i) => {
    const last = i === req.turns.length - 1;
    if (t.role === 'user' && last && hasImage(req) && !req.toolResult)
      return { role: 'user', content: [{ type: 'text', text: t.text },
                                       { type: 'image', source: req.imageUrl ? { type: 'url', url: req.imageUrl.url }
                                         : { type: 'base64', media_type: req.image.mime, data: req.image.base64 } }] };
    return { role: t.role, content: t.text };
  });
  if (req.toolResult) {
    const r = req.toolResult;
    messages.push({ role: 'assistant', content: [{ type: 'tool_use', id: r.id, name: r.name, input: r.args }] });
    messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: r.id, content: r.result }] });
  }
  const body = { model: req.model, max_tokens: req.maxTokens ?? 1024, messages };
  if (req.system) body.system = req.system;
  if (req.tools) body.tools = req.tools.map((t) => ({ name: t.name, description: t.description, input_schema: t.parameters }));
  return body;
}
const anthropicFinish = (r) => ({ end_turn: 'stop', stop_sequence: 'stop', max_tokens: 'length', tool_use: 'tool' }[r] ?? r ?? null);
const anthropicUsage = (u) => u && { input: (u.input_tokens ?? 0) + (u.cache_read_input_tokens ?? 0), output: u.output_tokens };
const anthropicClient = (gw, key) => new Anthropic({ apiKey: key, baseURL: `${gw.url}/v3`, maxRetries: 0, timeout: TIMEOUT_MS });

export const anthropic = {
  name: 'anthropic', sendsToolIds: true,
  async chat(gw, key, req) {
    const m = await anthropicClient(gw, key).messages.create(anthropicBody(req));
    return {
      text: m.content.filter((b) => b.type === 'text').map((b) => b.text).join(''),
      toolCalls: m.content.filter((b) => b.type === 'tool_use').map((b) => ({ id: b.id, name: b.name, args: b.input })),
      finish: anthropicFinish(m.stop_reason),
      usage: anthropicUsage(m.usage),
    };
  },
  async stream(gw, key, req) {
    const out = { deltas: [], times: [], text: '', toolCalls: [], finish: null, usage: null, startedAt: Date.now(), endedAt: null };
    const blocks = new Map();
    let usage = {};
    const stream = await anthropicClient(gw, key).messages.create({ ...anthropicBody(req), stream: true });
    for await (const ev of stream) {
      if (ev.type === 'message_start') usage = { ...usage, ...ev.message.usage };
      else if (ev.type === 'content_block_start') blocks.set(ev.index, { ...ev.content_block, json: '' });
      else if (ev.type === 'content_block_delta') {
        if (ev.delta.type === 'text_delta' && ev.delta.text) {
          out.deltas.push(ev.delta.text); out.times.push(Date.now()); out.text += ev.delta.text;
        } else if (ev.delta.type === 'input_json_delta') blocks.get(ev.index).json += ev.delta.partial_json;
      } else if (ev.type === 'message_delta') {
        out.finish = anthropicFinish(ev.delta.stop_reason);
        for (const [k, v] of Object.entries(ev.usage ?? {})) if (v !== null && v !== undefined) usage[k] = v;
      }
    }
    out.endedAt = Date.now();
    out.toolCalls = [...blocks.values()].filter((b) => b.type === 'tool_use')
      .map((b) => ({ id: b.id, name: b.name, args: b.json ? parseArgs(b.json) : b.input }));
    out.usage = anthropicUsage(usage);
    return out;
  },
  errorStatus: sdkStatus,
  errorMessage: sdkMessage,
  errorProblem: (e) => (typeof e?.status === 'number' ? null : `not an APIError with a status: ${e?.constructor?.name}: ${e?.message}`),
};

// ---------------------------------------------------------------------------------------------
// Gemini generateContent: contents/parts, role "model", systemInstruction, functionDeclarations
// with the Gemini Schema (upper-case types).
export function toGeminiSchema(s) {
  if (!s || typeof s !== 'object') return s;
  const out = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === 'type') out.type = String(v).toUpperCase();
    else if (k === 'properties') out.properties = Object.fromEntries(Object.entries(v).map(([p, ps]) => [p, toGeminiSchema(ps)]));
    else if (k === 'items') out.items = toGeminiSchema(v);
    else out[k] = v;
  }
  return out;
}

function geminiParams(req) {
  const contents = req.turns.map((t, i) => {
    const last = i === req.turns.length - 1;
    const parts = [{ text: t.text }];
    if (t.role === 'user' && last && req.image && !req.toolResult) parts.push({ inlineData: { mimeType: req.image.mime, data: req.image.base64 } });
    else if (t.role === 'user' && last && req.imageUrl && !req.toolResult)
      parts.push({ fileData: { fileUri: req.imageUrl.url, ...(req.imageUrl.mime ? { mimeType: req.imageUrl.mime } : {}) } });
    return { role: t.role === 'assistant' ? 'model' : 'user', parts };
  });
  if (req.toolResult) {
    const r = req.toolResult;
    contents.push({ role: 'model', parts: [{ functionCall: { id: r.id, name: r.name, args: r.args } }] });
    contents.push({ role: 'user', parts: [{ functionResponse: { id: r.id, name: r.name, response: { result: r.result } } }] });
  }
  const config = {};
  if (req.system) config.systemInstruction = { parts: [{ text: req.system }] };
  if (req.tools) config.tools = [{ functionDeclarations: req.tools.map((t) => ({ name: t.name, description: t.description, parameters: toGeminiSchema(t.parameters) })) }];
  if (req.maxTokens) config.maxOutputTokens = req.maxTokens;
  return { model: req.model, contents, config };
}
const geminiClient = (gw, key) => new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: `${gw.url}/v2`, timeout: TIMEOUT_MS, retryOptions: { attempts: 1 } } });
const geminiFinish = (f, hasCalls) => (hasCalls ? 'tool' : ({ STOP: 'stop', MAX_TOKENS: 'length' }[f] ?? f ?? null));
const geminiUsage = (u) => u && { input: u.promptTokenCount, output: u.candidatesTokenCount };

export const gemini = {
  name: 'gemini', sendsToolIds: true,
  async chat(gw, key, req) {
    const r = await geminiClient(gw, key).models.generateContent(geminiParams(req));
    const cand = r.candidates?.[0];
    const parts = cand?.content?.parts ?? [];
    const toolCalls = parts.filter((p) => p.functionCall).map((p) => ({ id: p.functionCall.id, name: p.functionCall.name, args: p.functionCall.args }));
    return {
      text: parts.filter((p) => typeof p.text === 'string' && !p.thought).map((p) => p.text).join(''),
      toolCalls, finish: geminiFinish(cand?.finishReason, toolCalls.length > 0), usage: geminiUsage(r.usageMetadata),
    };
  },
  async stream(gw, key, req) {
    const out = { deltas: [], times: [], text: '', toolCalls: [], finish: null, usage: null, startedAt: Date.now(), endedAt: null };
    let finishRaw = null;
    const it = await geminiClient(gw, key).models.generateContentStream(geminiParams(req));
    for await (const r of it) {
      const cand = r.candidates?.[0];
      for (const p of cand?.content?.parts ?? []) {
        if (typeof p.text === 'string' && p.text && !p.thought) { out.deltas.push(p.text); out.times.push(Date.now()); out.text += p.text; }
        if (p.functionCall) out.toolCalls.push({ id: p.functionCall.id, name: p.functionCall.name, args: p.functionCall.args });
      }
      if (cand?.finishReason) finishRaw = cand.finishReason;
      if (r.usageMetadata) out.usage = geminiUsage(r.usageMetadata);
    }
    out.endedAt = Date.now();
    out.finish = geminiFinish(finishRaw, out.toolCalls.length > 0);
    return out;
  },
  errorStatus: (e) => e?.status,
  errorMessage: sdkMessage,
  errorProblem: (e) => (e?.name === 'ApiError' && typeof e?.status === 'number' ? null : `not an ApiError: ${e?.constructor?.name}: ${e?.message}`),
};

// ---------------------------------------------------------------------------------------------
// Ollama /api/chat: messages with images (base64) and tool_calls (arguments as objects, no ids),
// options.num_predict, the key as a Bearer header.
function ollamaParams(req, stream) {
  if (req.imageUrl) throw new NotExpressible('Ollama images are base64 data only: a remote image URL cannot be sent');
  const messages = [];
  if (req.system) messages.push({ role: 'system', content: req.system });
  req.turns.forEach((t, i) => {
    const last = i === req.turns.length - 1;
    const m = { role: t.role, content: t.text };
    if (t.role === 'user' && last && req.image && !req.toolResult) m.images = [req.image.base64];
    messages.push(m);
  });
  if (req.toolResult) {
    const r = req.toolResult;
    messages.push({ role: 'assistant', content: '', tool_calls: [{ function: { name: r.name, arguments: r.args } }] });
    messages.push({ role: 'tool', content: r.result, tool_name: r.name });
  }
  const p = { model: req.model, messages, stream };
  if (req.tools) p.tools = req.tools.map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.parameters } }));
  if (req.maxTokens) p.options = { num_predict: req.maxTokens };
  return p;
}
const ollamaClient = (gw, key) => new Ollama({ host: `${gw.url}/v5`, headers: { Authorization: `Bearer ${key}` } });
const ollamaFinish = (r, hasCalls) => (hasCalls ? 'tool' : ({ stop: 'stop', length: 'length' }[r] ?? r ?? null));
const ollamaCalls = (m) => (m?.tool_calls ?? []).map((t) => ({ id: t.id, name: t.function.name, args: parseArgs(t.function.arguments) }));

export const ollama = {
  name: 'ollama', sendsToolIds: false,
  async chat(gw, key, req) {
    const r = await ollamaClient(gw, key).chat(ollamaParams(req, false));
    const toolCalls = ollamaCalls(r.message);
    return { text: r.message?.content ?? '', toolCalls, finish: ollamaFinish(r.done_reason, toolCalls.length > 0),
             usage: { input: r.prompt_eval_count, output: r.eval_count } };
  },
  async stream(gw, key, req) {
    const out = { deltas: [], times: [], text: '', toolCalls: [], finish: null, usage: null, startedAt: Date.now(), endedAt: null };
    let reason = null;
    const it = await ollamaClient(gw, key).chat(ollamaParams(req, true));
    for await (const part of it) {
      const c = part.message?.content;
      if (c) { out.deltas.push(c); out.times.push(Date.now()); out.text += c; }
      out.toolCalls.push(...ollamaCalls(part.message));
      if (part.done) { reason = part.done_reason; out.usage = { input: part.prompt_eval_count, output: part.eval_count }; }
    }
    out.endedAt = Date.now();
    out.finish = ollamaFinish(reason, out.toolCalls.length > 0);
    return out;
  },
  errorStatus: (e) => e?.status_code,
  errorMessage: (e) => (e?.error && typeof e.error === 'object' ? JSON.stringify(e.error) : String(e?.error ?? e?.message ?? e)),
  errorProblem: (e) => (e?.name === 'ResponseError' && typeof e?.status_code === 'number' ? null : `not a ResponseError: ${e?.constructor?.name}: ${e?.message}`),
};

// ---------------------------------------------------------------------------------------------
// OpenRouter: chat.send({chatRequest}) with the SDK's camelCase models (it converts to snake_case
// and validates answers with zod).
function openrouterRequest(req) {
  const messages = [];
  if (req.system) messages.push({ role: 'system', content: req.system });
  req.turns.forEach((t, i) => {
    const last = i === req.turns.length - 1;
    if (t.role === 'user' && last && hasImage(req) && !req.toolResult)
      messages.push({ role: 'user', content: [{ type: 'text', text: t.text }, { type: 'image_url', imageUrl: { url: imagePartUrl(req) } }] });
    else messages.push({ role: t.role, content: t.text });
  });
  if (req.toolResult) {
    const r = req.toolResult;
    messages.push({ role: 'assistant', content: null,
                    toolCalls: [{ id: r.id, type: 'function', function: { name: r.name, arguments: JSON.stringify(r.args) } }] });
    messages.push({ role: 'tool', toolCallId: r.id, content: r.result });
  }
  const chatRequest = { model: req.model, messages };
  if (req.tools) chatRequest.tools = req.tools.map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.parameters } }));
  if (req.maxTokens) chatRequest.maxTokens = req.maxTokens;
  return chatRequest;
}
const openrouterClient = (gw, key) => new OpenRouter({ apiKey: key, serverURL: `${gw.url}/v6`, retryConfig: { strategy: 'none' }, timeoutMs: TIMEOUT_MS });

export const openrouter = {
  name: 'openrouter', sendsToolIds: true,
  async chat(gw, key, req) {
    const r = await openrouterClient(gw, key).chat.send({ chatRequest: { ...openrouterRequest(req), stream: false } });
    const c = r.choices[0];
    return {
      text: typeof c.message.content === 'string' ? c.message.content : '',
      toolCalls: (c.message.toolCalls ?? []).map((t) => ({ id: t.id, name: t.function.name, args: parseArgs(t.function.arguments) })),
      finish: openaiFinish(c.finishReason),
      usage: r.usage ? { input: r.usage.promptTokens, output: r.usage.completionTokens } : null,
    };
  },
  async stream(gw, key, req) {
    const acc = chunkAccumulator();
    const stream = await openrouterClient(gw, key).chat.send({ chatRequest: { ...openrouterRequest(req), stream: true, streamOptions: { includeUsage: true } } });
    for await (const chunk of stream) {
      if (chunk.error) throw Object.assign(new Error(`stream error chunk: ${chunk.error.message}`), { streamError: chunk.error });
      acc.add(chunk);
    }
    return acc.done();
  },
  errorStatus: (e) => e?.statusCode,
  errorMessage: (e) => String(e?.error?.message ?? e?.message ?? e),
  // A ResponseValidationError means the gateway's error body is not the shape the SDK documents.
  errorProblem: (e) => (typeof e?.statusCode === 'number' && e?.name !== 'ResponseValidationError'
    ? null : `not a typed OpenRouter error: ${e?.name ?? e?.constructor?.name}: ${String(e?.message).slice(0, 300)}`),
};

export const protocols = [openai, anthropic, gemini, groq, ollama, openrouter, responses];
