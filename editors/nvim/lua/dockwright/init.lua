-- dockwright.nvim: the Dockwright language server for Dockerfile buffers,
-- our tree-sitter grammar's queries, and :DockwrightBuild,
-- :DockwrightPush, :DockwrightBuildAndPush.
--
--   require('dockwright').setup{
--     cmd = { 'dockwright', '--stdio' },   -- the server (default: from PATH)
--     settings = { diagnostics = { debounceMs = 0 }, rules = {}, root = nil,
--                  insecureRegistries = {} },  -- the `dockwright` section
--     build = { target = nil, buildArgs = nil, context = nil,
--               platform = nil, noCache = nil, output = nil },
--     on_attach = function(client, bufnr) end,
--     treesitter = true,   -- our grammar and queries (with nvim-treesitter)
--     open_log = true,     -- show the build log window when a build starts
--   }
--
-- Works on Neovim 0.7.2 and later: every API newer than 0.7 is behind a
-- check with a 0.7 fallback (vim.lsp.start, client.server_capabilities).
local M = {}

local build = require('dockwright.build')

M.config = {
  cmd = nil,
  settings = {},
  build = {},
  on_attach = nil,
  capabilities = nil,
  treesitter = true,
  open_log = true,
  filetypes = { 'dockerfile' },
}

local client_id = nil

-- The directory holding lua/, queries/ (this file's ../../).
local function plugin_dir()
  local src = debug.getinfo(1, 'S').source:sub(2)
  return vim.fn.fnamemodify(src, ':p:h:h:h')
end

local function root_dir(bufnr)
  local name = vim.api.nvim_buf_get_name(bufnr)
  local dir = name ~= '' and vim.fn.fnamemodify(name, ':p:h') or vim.loop.cwd()
  local git = vim.fn.finddir('.git', dir .. ';')
  if git ~= '' then return vim.fn.fnamemodify(git, ':p:h:h') end
  return dir
end

-- The `dockwright` section: empty tables go as JSON objects ({}), not as
-- the empty arrays Lua tables would become.
local function section()
  local s = vim.deepcopy(M.config.settings or {})
  for _, k in ipairs({ 'rules', 'diagnostics', 'format', 'inlayHints' }) do
    if s[k] ~= nil and vim.tbl_isempty(s[k]) then s[k] = vim.empty_dict() end
  end
  if s.insecureRegistries ~= nil and vim.tbl_isempty(s.insecureRegistries) then
    s.insecureRegistries = nil
  end
  if vim.tbl_isempty(s) then return vim.empty_dict() end
  return s
end

local function client_config(bufnr)
  local cfg = M.config
  local caps = cfg.capabilities or vim.lsp.protocol.make_client_capabilities()
  -- We show dockwright/buildLog in the log buffer: no window/logMessage copy.
  caps.experimental = caps.experimental or {}
  caps.experimental.dockwright = { buildLog = true }
  return {
    name = 'dockwright',
    cmd = cfg.cmd or { 'dockwright', '--stdio' },
    root_dir = root_dir(bufnr),
    capabilities = caps,
    -- The section itself; workspace/configuration asks for it by name.
    init_options = { dockwright = section() },
    settings = { dockwright = section() },
    handlers = build.handlers(),
    on_attach = cfg.on_attach,
    on_exit = function() client_id = nil end,
  }
end

-- Starts (or reuses) the server and attaches it to the buffer.
function M.attach(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  if vim.lsp.start then -- 0.8+: reuses a client with the same name and root
    client_id = vim.lsp.start(client_config(bufnr), { bufnr = bufnr })
    return client_id
  end
  local c = client_id and vim.lsp.get_client_by_id(client_id)
  if not c or c.is_stopped() then
    client_id = vim.lsp.start_client(client_config(bufnr))
    if not client_id then
      vim.notify('dockwright: could not start ' ..
        table.concat(client_config(bufnr).cmd, ' '), vim.log.levels.ERROR)
      return nil
    end
  end
  vim.lsp.buf_attach_client(bufnr, client_id)
  return client_id
end

-- The client attached to bufnr (or any dockwright client), or nil.
function M.client(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local clients
  if vim.lsp.get_clients then -- 0.10+
    clients = vim.lsp.get_clients({ bufnr = bufnr, name = 'dockwright' })
  else
    clients = vim.lsp.buf_get_clients(bufnr)
  end
  for _, c in pairs(clients) do
    if c.name == 'dockwright' then return c end
  end
  return client_id and vim.lsp.get_client_by_id(client_id) or nil
end

-- Our grammar is named `dockerfile` (tree_sitter_dockerfile), as is the
-- grammar nvim-treesitter ships: point nvim-treesitter's install at ours
-- (`:TSInstall dockerfile` then compiles grammar/ of this repository) and
-- put our queries first on 'runtimepath' when the installed parser is
-- ours, so they never meet the other grammar's node types.
local function is_our_parser()
  local inspect = (vim.treesitter.language and vim.treesitter.language.inspect)
    or vim.treesitter.inspect_language -- 0.7 to 0.9
  if not inspect then return false end
  local ok, lang = pcall(inspect, 'dockerfile')
  if not ok or type(lang) ~= 'table' then return false end
  -- 0.7: symbols = { {name, named}, ... }; 0.10+: { [name] = named }.
  for k, sym in pairs(lang.symbols or {}) do
    if k == 'unknown_keyword' or (type(sym) == 'table' and sym[1] == 'unknown_keyword') then
      return true
    end
  end
  return false
end

-- nvim-treesitter's master branch (get_parser_configs) or its main branch
-- (the module is the table of parsers, read again on `User TSUpdate`).
local function register_parser(grammar)
  local ok, parsers = pcall(require, 'nvim-treesitter.parsers')
  if not ok or type(parsers) ~= 'table' then return end
  if parsers.get_parser_configs then
    local configs = parsers.get_parser_configs()
    configs.dockerfile = configs.dockerfile or {}
    configs.dockerfile.install_info = {
      url = grammar,
      files = { 'src/parser.c', 'src/scanner.c' },
      generate_requires_npm = false,
      requires_generate_from_grammar = false,
    }
    configs.dockerfile.filetype = 'dockerfile'
  else
    local function set()
      parsers.dockerfile = { install_info = { path = grammar, queries = 'queries' } }
    end
    set()
    vim.api.nvim_create_autocmd('User', { pattern = 'TSUpdate', callback = set })
  end
end

function M.setup_treesitter()
  local dir = plugin_dir()
  local grammar = vim.fn.fnamemodify(dir .. '/../../grammar', ':p'):gsub('/$', '')
  if vim.fn.isdirectory(grammar) == 1 then register_parser(grammar) end
  if is_our_parser() then
    vim.opt.runtimepath:prepend(dir)
    return true
  end
  return false
end

function M.setup(opts)
  M.config = vim.tbl_deep_extend('force', M.config, opts or {})
  build.configure(M)

  -- Neovim 0.7 knows Dockerfile, Dockerfile.* and *.dockerfile.
  local group = vim.api.nvim_create_augroup('dockwright', { clear = true })
  vim.api.nvim_create_autocmd({ 'BufNewFile', 'BufRead' }, {
    group = group,
    pattern = { 'Containerfile', 'Containerfile.*', '*.containerfile', '*.Dockerfile' },
    command = 'setfiletype dockerfile',
  })
  vim.api.nvim_create_autocmd('FileType', {
    group = group,
    pattern = M.config.filetypes,
    callback = function(args) M.attach(args.buf) end,
  })
  if M.config.treesitter then M.setup_treesitter() end
  build.create_commands()

  -- Buffers already open when setup runs.
  for _, b in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(b) and
        vim.tbl_contains(M.config.filetypes, vim.bo[b].filetype) then
      M.attach(b)
    end
  end
end

return M
