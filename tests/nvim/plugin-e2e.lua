-- End to end through editors/nvim (run by tests/nvim/plugin.sh):
--   nvim --headless -u NONE -i NONE -n --cmd 'set rtp^=editors/nvim,PARSER_DIR'
--        -c 'luafile tests/nvim/plugin-e2e.lua'
-- with DW (the dockwright binary), BAD (a Dockerfile with a mistake), APP
-- (a Dockerfile that builds), FAILING (one whose RUN fails), TAG (where to
-- push) and STORE in the environment.  Prints "ok - ..." / "not ok - ..."
-- per check and "digest <d>" for the shell to compare with the registry.
local function say(s) io.stdout:write(s .. '\n') end
local passed, failed = 0, 0
local function check(desc, cond, detail)
  if cond then
    passed = passed + 1; say('ok - ' .. desc)
  else
    failed = failed + 1
    say('not ok - ' .. desc .. (detail and (' (' .. detail .. ')') or ''))
  end
end

local notes = {}
vim.notify = function(msg, level)
  table.insert(notes, msg)
  say(string.format('notify[%s] %s', tostring(level), msg))
end

if vim.env.LSP_DEBUG then vim.lsp.set_log_level('debug') end
local dw = require('dockwright')
local build = require('dockwright.build')
dw.setup({
  cmd = { vim.env.DW, '--stdio' },
  settings = { diagnostics = { debounceMs = 0 }, root = vim.env.STORE,
               rules = { ImageTagLatest = 'off' } },
  build = vim.env.BUILD_ARGS and vim.env.BUILD_ARGS ~= '{}'
    and { buildArgs = vim.fn.json_decode(vim.env.BUILD_ARGS) } or {},
  open_log = true,
})

-- 1. Diagnostics: a Dockerfile with a mistake.
vim.cmd('edit ' .. vim.fn.fnameescape(vim.env.BAD))
local bad = vim.api.nvim_get_current_buf()
check('filetype dockerfile', vim.bo[bad].filetype == 'dockerfile', vim.bo[bad].filetype)
local got = vim.wait(15000, function()
  for _, d in ipairs(vim.diagnostic.get(bad)) do
    if d.code == 'InvalidPort' then return true end
  end
  return false
end, 20)
check('diagnostics arrive through the plugin (InvalidPort)', got)
local latest = false
for _, d in ipairs(vim.diagnostic.get(bad)) do
  say(string.format('diag %d:%d %s %s', d.lnum + 1, d.col + 1, tostring(d.code), d.message))
  if d.code == 'ImageTagLatest' then latest = true end
end
check('the rules setting reaches the server (no ImageTagLatest)', got and not latest)

-- Containerfile is a Dockerfile too.
vim.cmd('edit ' .. vim.fn.fnameescape(vim.env.CONTAINERFILE))
check('Containerfile gets filetype dockerfile', vim.bo.filetype == 'dockerfile', vim.bo.filetype)
check('the server attaches to the Containerfile', vim.wait(5000, function()
  return dw.client(0) ~= nil
end, 20))
vim.cmd('buffer ' .. bad)

-- 2. Our grammar and queries (the parser compiled from grammar/ is on
-- 'runtimepath' as parser/dockerfile.so).
local ts_ok = dw.setup_treesitter()
check('our tree-sitter grammar is recognised', ts_ok)
if ts_ok then
  local get_query = (vim.treesitter.query and vim.treesitter.query.get)
    or vim.treesitter.get_query
  local okq, q = pcall(get_query, 'dockerfile', 'highlights')
  check('our highlights query compiles on this Neovim', okq and q ~= nil, tostring(q))
  if okq and q then
    local parser = vim.treesitter.get_parser(bad, 'dockerfile')
    local tree = parser:parse()[1]
    local caps = {}
    for id, node in q:iter_captures(tree:root(), bad, 0, 1) do
      local sr, sc, _, ec = node:range()
      if sr == 0 and sc == 0 then caps[q.captures[id]] = ec end
    end
    check('FROM is highlighted as @keyword', caps.keyword == 4, vim.inspect(caps))
  end
end

-- 3. Completion (textDocument/completion) at the start of a new line.
local n = vim.api.nvim_buf_line_count(bad)
vim.api.nvim_buf_set_lines(bad, n, n, false, { 'RU' })
local params = {
  textDocument = { uri = vim.uri_from_bufnr(bad) },
  position = { line = n, character = 2 },
}
local res = vim.lsp.buf_request_sync(bad, 'textDocument/completion', params, 5000) or {}
local labels = {}
for _, r in pairs(res) do
  local items = r.result and (r.result.items or r.result) or {}
  for _, it in ipairs(items) do labels[it.label] = true end
end
check('completion answers with RUN', labels.RUN == true or labels['RUN '] == true,
  vim.inspect(vim.tbl_keys(labels)):sub(1, 200))

-- 4. :DockwrightBuildAndPush TAG.
local function wait_build(timeout)
  build.last = nil
  return vim.wait(timeout, function() return build.last ~= nil end, 50)
end
vim.cmd('edit ' .. vim.fn.fnameescape(vim.env.APP))
local app = vim.api.nvim_get_current_buf()
vim.wait(5000, function() return dw.client(app) ~= nil end, 20)
build.last = nil
vim.cmd('DockwrightBuildAndPush ' .. vim.env.TAG)
local finished = vim.wait(tonumber(vim.env.BUILD_TIMEOUT_MS or '180000'), function() return build.last ~= nil end, 50)
check(':DockwrightBuildAndPush finishes', finished)
local last = build.last or {}
check('build and push succeeded', last.ok == true, last.message)
say('digest ' .. tostring(last.digest))
local kinds, steps, ended = {}, 0, nil
for _, p in ipairs(last.progress or {}) do
  kinds[p.kind] = (kinds[p.kind] or 0) + 1
  if p.kind == 'report' and p.message and p.message:match('^%[%d+/%d+%]') then steps = steps + 1 end
  if p.kind == 'end' then ended = p.message end
  say('progress ' .. p.kind .. ' ' .. tostring(p.message))
end
check('progress begin arrives', (kinds.begin or 0) == 1)
check('progress reports each step ([n/N] ...)', steps >= 3, 'step reports: ' .. steps)
check('progress ends with the digest', ended ~= nil and last.digest ~= nil and
  ended:find(last.digest, 1, true) ~= nil, tostring(ended))
local progress_notes = 0
for _, m in ipairs(notes) do
  if m:match('^dockwright: %[%d+/%d+%]') then progress_notes = progress_notes + 1 end
end
check('progress shown with vim.notify', progress_notes >= 3, 'notes: ' .. progress_notes)
local log = table.concat(build.log_lines(), '\n')
check('the build log buffer has the RUN output',
  log:find(vim.env.LOG_MARK or 'hello from nvim 42', 1, true) ~= nil)
local logwin = #vim.fn.win_findbuf(vim.fn.bufnr('dockwright://build-log')) > 0
check('the build log is shown in a window', logwin)
check('the tag is remembered for the buffer',
  vim.b[app].dockwright_tags and vim.b[app].dockwright_tags[1] == vim.env.TAG)

-- 4b. The server's code lenses go through the plugin's command: "Build"
-- on the first line, with the buffer's remembered tag.
vim.lsp.codelens.refresh()
local lenses = vim.wait(10000, function()
  for _, l in ipairs(vim.lsp.codelens.get(app)) do
    if l.command and l.command.title == 'Build' then return true end
  end
  return false
end, 50)
check('code lenses arrive (Build on the first line)', lenses)
if lenses then
  local select = vim.ui.select
  vim.ui.select = function(items, _, on_choice)
    for _, it in ipairs(items) do
      if it.lens.command.title == 'Build' then return on_choice(it) end
    end
    on_choice(nil)
  end
  vim.api.nvim_win_set_cursor(0, { 1, 0 })
  build.last = nil
  vim.lsp.codelens.run()
  vim.ui.select = select
  vim.wait(60000, function() return build.last ~= nil end, 50)
  last = build.last or {}
  check('the Build lens builds through the plugin, with the remembered tag',
    last.ok == true and last.kind == 'build' and last.tags and last.tags[1] == vim.env.TAG,
    vim.inspect({ ok = last.ok, kind = last.kind, tags = last.tags, message = last.message }))
  local cached = 0
  for _, p in ipairs(last.progress or {}) do
    if p.message and p.message:match('CACHED$') then cached = cached + 1 end
  end
  check('the rebuild reports its steps CACHED', cached >= 2, 'CACHED steps: ' .. cached)
end

-- 5. A failing RUN: the error and the "dockwright build" diagnostic.
vim.cmd('edit ' .. vim.fn.fnameescape(vim.env.FAILING))
local fail = vim.api.nvim_get_current_buf()
vim.wait(5000, function() return dw.client(fail) ~= nil end, 20)
build.last = nil
vim.cmd('DockwrightBuild ' .. vim.env.TAG .. '-fail')
vim.wait(120000, function() return build.last ~= nil end, 50)
last = build.last or {}
check('a failing RUN fails the build', last.ok == false, last.message)
local on_line = vim.wait(10000, function()
  for _, d in ipairs(vim.diagnostic.get(fail)) do
    if d.source == 'dockwright build' and d.lnum == 1 then return true end
  end
  return false
end, 20)
check('the failing RUN gets a "dockwright build" diagnostic on its line', on_line)

-- 6. :DockwrightCancel during a long RUN.
vim.cmd('edit ' .. vim.fn.fnameescape(vim.env.SLOW))
local slow = vim.api.nvim_get_current_buf()
vim.wait(5000, function() return dw.client(slow) ~= nil end, 20)
build.last = nil
vim.cmd('DockwrightBuild ' .. vim.env.TAG .. '-slow')
local in_run = vim.wait(60000, function()
  for _, m in ipairs(notes) do
    if m:find('RUN sleep 300', 1, true) then return true end
  end
  return false
end, 50)
check('the long RUN starts', in_run)
local t_cancel = vim.loop.hrtime()
vim.cmd('DockwrightCancel')
vim.wait(30000, function() return build.last ~= nil end, 50)
last = build.last or {}
check(':DockwrightCancel cancels the build', last.cancelled == true, last.message)
say(string.format('cancel took %d ms', (vim.loop.hrtime() - t_cancel) / 1e6))

say(string.format('plugin checks: %d passed, %d failed', passed, failed))
local c = dw.client(app)
if c then vim.lsp.stop_client(c.id) end
vim.wait(3000, function() return dw.client(app) == nil end, 20)
vim.cmd('qa!')
