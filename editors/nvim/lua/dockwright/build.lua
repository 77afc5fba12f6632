-- :DockwrightBuild [tag...], :DockwrightPush [tag...],
-- :DockwrightBuildAndPush [tag...], :DockwrightCancel, :DockwrightLog.
--
-- Each build is one workspace/executeCommand (dockwright.build,
-- dockwright.push, dockwright.buildAndPush; docs/editor-protocol.md) with
-- a workDoneToken of ours, so its $/progress is told apart from any other:
-- begin, each step and the end go to vim.notify (blob byte counts at most
-- once a second) and, with dockwright/buildLog, to the scratch buffer
-- "dockwright://build-log".  The default $/progress handler still sees
-- every message, for statusline plugins.  The tags are remembered per
-- buffer (b:dockwright_tags).  When a request ends, `B.last` holds the
-- result and the User autocommand DockwrightBuildDone fires.
local B = {}

local plugin -- the dockwright module (config, client lookup)
local seq = 0
local tokens = {} -- our progress token -> state of the build
local running = {} -- uri -> token
local log_buf = nil

B.last = nil

local titles = {
  build = 'build',
  push = 'push',
  buildAndPush = 'build and push',
}

local new_api = vim.fn.has('nvim-0.11') == 1

-- Client methods: `client:request()` from 0.11, `client.request()` before.
local function request(client, method, params, handler, bufnr)
  if new_api then return client:request(method, params, handler, bufnr) end
  return client.request(method, params, handler, bufnr)
end

local function notify_server(client, method, params)
  if new_api then return client:notify(method, params) end
  return client.notify(method, params)
end

function B.configure(m)
  plugin = m
end

-- The build log ----------------------------------------------------------

local function log_buffer()
  if log_buf and vim.api.nvim_buf_is_valid(log_buf) then return log_buf end
  log_buf = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_name(log_buf, 'dockwright://build-log')
  vim.bo[log_buf].bufhidden = 'hide'
  vim.bo[log_buf].swapfile = false
  vim.bo[log_buf].filetype = 'dockwrightlog'
  return log_buf
end

function B.log_lines()
  return vim.api.nvim_buf_get_lines(log_buffer(), 0, -1, false)
end

local function log(text)
  local b = log_buffer()
  local lines = vim.split(text, '\n', { plain = true })
  local n = vim.api.nvim_buf_line_count(b)
  if n == 1 and vim.api.nvim_buf_get_lines(b, 0, 1, false)[1] == '' then n = 0 end
  vim.api.nvim_buf_set_lines(b, n, n, false, lines)
  local last = vim.api.nvim_buf_line_count(b)
  for _, w in ipairs(vim.fn.win_findbuf(b)) do
    vim.api.nvim_win_set_cursor(w, { last, 0 })
  end
end

function B.show_log()
  local b = log_buffer()
  if #vim.fn.win_findbuf(b) > 0 then return end
  local from = vim.api.nvim_get_current_win()
  vim.cmd('botright 12split')
  vim.api.nvim_win_set_buf(0, b)
  vim.api.nvim_win_set_cursor(0, { vim.api.nvim_buf_line_count(b), 0 })
  vim.api.nvim_set_current_win(from)
end

-- Progress ---------------------------------------------------------------

local done -- (below) the end of a build: the answer, or a cancelled progress

local function on_progress(token, v)
  local t = tokens[token]
  if not t or type(v) ~= 'table' then return end
  local msg
  if v.kind == 'begin' then
    msg = (v.title or t.title) .. (v.message and (': ' .. v.message) or '')
  elseif v.kind == 'report' then
    msg = v.message
    if v.percentage then msg = string.format('%s (%d%%)', msg or '', v.percentage) end
  elseif v.kind == 'end' then
    msg = 'end: ' .. (v.message or '')
  end
  if not msg then return end
  table.insert(t.progress, { kind = v.kind, message = v.message, percentage = v.percentage })
  log('[progress] ' .. msg)
  -- Byte counts of pulls and pushes come often: one notification a second.
  local now = vim.loop.now()
  local blob = v.kind == 'report' and v.message and v.message:match('^p[uo][ls][lh] sha256:')
  if blob and t.last_blob and now - t.last_blob < 1000 then return end
  if blob then t.last_blob = now end
  -- The end is told once, with the request's answer (done()).
  -- Neovim drops every RequestCancelled answer as the acknowledgement of
  -- a $/cancelRequest, so a cancelled build ends with its progress.
  if v.kind == 'end' then
    if v.message == 'cancelled' then
      vim.schedule(function()
        if tokens[token] then done(token, { code = -32800, message = 'cancelled' }) end
      end)
    end
    return
  end
  vim.notify('dockwright: ' .. msg, vim.log.levels.INFO, { title = 'Dockwright' })
end

function B.handlers()
  return {
    ['dockwright/buildLog'] = function(_, params)
      if type(params) == 'table' and type(params.text) == 'string' then
        log(params.text)
      end
    end,
    ['$/progress'] = function(err, result, ctx, config)
      if type(result) == 'table' and tokens[result.token] then
        on_progress(result.token, result.value)
      end
      local default = vim.lsp.handlers['$/progress']
      if default then return default(err, result, ctx, config) end
    end,
  }
end

-- Running a build ----------------------------------------------------------

function done(token, err, result)
  local t = tokens[token]
  tokens[token] = nil
  if not t then return end
  running[t.uri] = nil
  local last = {
    kind = t.kind, uri = t.uri, tags = t.tags, progress = t.progress,
    ms = math.floor((vim.loop.hrtime() - t.started) / 1e6),
  }
  if err then
    last.ok = false
    last.cancelled = err.code == -32800
    last.message = err.message or vim.inspect(err)
    log(string.format('--- %s: %s', last.cancelled and 'cancelled' or 'failed', last.message))
    vim.notify('dockwright: ' .. titles[t.kind] .. ' ' ..
      (last.cancelled and 'cancelled' or ('failed: ' .. last.message)),
      last.cancelled and vim.log.levels.WARN or vim.log.levels.ERROR,
      { title = 'Dockwright' })
  else
    result = type(result) == 'table' and result or {}
    last.ok = true
    last.digest = result.digest
    last.tags = result.tags or t.tags
    last.steps = result.steps or {}
    local tags = table.concat(last.tags or {}, ', ')
    log(string.format('--- done: %s %s (%d steps, %d ms)', tags,
      result.digest or '', #last.steps, last.ms))
    vim.notify(string.format('dockwright: %s %s %s', tags,
      t.kind == 'build' and 'built' or 'pushed', result.digest or ''),
      vim.log.levels.INFO, { title = 'Dockwright' })
  end
  B.last = last
  vim.api.nvim_exec_autocmds('User', { pattern = 'DockwrightBuildDone', modeline = false })
end

local function start(kind, client, bufnr, tags, extra)
  local uri = vim.uri_from_bufnr(bufnr)
  if running[uri] then
    vim.notify('dockwright: a build of this file is already running (:DockwrightCancel)',
      vim.log.levels.WARN)
    return
  end
  local req = vim.tbl_extend('force', {}, plugin.config.build or {}, extra or {})
  req.uri = uri
  if #tags > 0 then req.tags = tags end
  seq = seq + 1
  local token = string.format('dockwright-nvim-%d-%d', vim.fn.getpid(), seq)
  local what = #tags > 0 and table.concat(tags, ', ') or vim.fn.fnamemodify(
    vim.api.nvim_buf_get_name(bufnr), ':t')
  tokens[token] = {
    kind = kind, uri = uri, tags = tags, progress = {},
    title = titles[kind] .. ' ' .. what, started = vim.loop.hrtime(),
  }
  running[uri] = token
  log(string.format('--- %s %s (%s)', titles[kind], what, os.date('%H:%M:%S')))
  if plugin.config.open_log then B.show_log() end
  local ok, id = request(client, 'workspace/executeCommand', {
    command = 'dockwright.' .. kind,
    arguments = { req },
    workDoneToken = token,
  }, function(err, result) done(token, err, result) end, bufnr)
  if not ok then
    done(token, { message = 'the server is not running' })
    return
  end
  tokens[token].client = client
  tokens[token].request_id = id
end

local function split_tags(args)
  local tags = {}
  for _, a in ipairs(args) do
    for t in a:gmatch('[^,%s]+') do table.insert(tags, t) end
  end
  return tags
end

-- kind: 'build' | 'push' | 'buildAndPush'; args: tags (strings; "a,b"
-- also splits); extra: more request fields (a code lens's target).
function B.run(kind, args, bufnr, extra)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local client = plugin.client(bufnr)
  if not client then
    vim.notify('dockwright: no dockwright server is attached to this buffer',
      vim.log.levels.ERROR)
    return
  end
  if vim.api.nvim_buf_get_name(bufnr) == '' then
    vim.notify('dockwright: the buffer has no file name', vim.log.levels.ERROR)
    return
  end
  local tags = split_tags(args or {})
  if #tags == 0 and extra and type(extra.tags) == 'table' then tags = extra.tags end
  local remembered = vim.b[bufnr].dockwright_tags
  if #tags == 0 and type(remembered) == 'table' and #remembered > 0 then
    tags = remembered
  end
  if #tags == 0 and kind ~= 'build' then
    vim.ui.input({ prompt = 'Image tag (registry/name:tag): ' }, function(input)
      if input and input ~= '' then B.run(kind, { input }, bufnr, extra) end
    end)
    return
  end
  if #tags > 0 then vim.b[bufnr].dockwright_tags = tags end
  start(kind, client, bufnr, tags, extra)
end

function B.cancel(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local token = running[vim.uri_from_bufnr(bufnr)]
  local t = token and tokens[token]
  if not t or not t.client then
    vim.notify('dockwright: no build of this file is running', vim.log.levels.WARN)
    return
  end
  notify_server(t.client, 'window/workDoneProgress/cancel', { token = token })
end

function B.create_commands()
  local function cmd(name, kind)
    vim.api.nvim_create_user_command(name, function(o)
      B.run(kind, o.fargs, 0)
    end, { nargs = '*', desc = 'Dockwright: ' .. titles[kind] .. ' the image of this Dockerfile' })
  end
  cmd('DockwrightBuild', 'build')
  cmd('DockwrightPush', 'push')
  cmd('DockwrightBuildAndPush', 'buildAndPush')
  vim.api.nvim_create_user_command('DockwrightCancel', function() B.cancel(0) end,
    { desc = 'Dockwright: cancel the running build of this Dockerfile' })
  vim.api.nvim_create_user_command('DockwrightLog', function() B.show_log() end,
    { desc = 'Dockwright: show the build log' })
  -- Code lenses carry the server's commands: run them through the same
  -- progress and log as the user commands.
  for kind in pairs(titles) do
    vim.lsp.commands['dockwright.' .. kind] = function(command, ctx)
      local a = command.arguments and command.arguments[1] or {}
      local bufnr = a.uri and vim.uri_to_bufnr(a.uri) or ctx.bufnr
      local extra = vim.deepcopy(a)
      extra.uri = nil
      B.run(kind, {}, bufnr, extra)
    end
  end
end

return B
