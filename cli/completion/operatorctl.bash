# bash completion for operatorctl, the command line of operator-authd.
# Static on purpose: it never asks the daemon, so it completes the same whether the daemon runs or
# not, and a slow daemon cannot stall the shell. Provider ids are the built-in ones and their
# aliases.

_operatorctl() {
  local cur=${COMP_WORDS[COMP_CWORD]}
  local prev=''
  ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
  # bash splits "--socket=PATH" at "=" into three words.
  [[ $prev == = ]] && ((COMP_CWORD > 1)) && prev=${COMP_WORDS[COMP_CWORD - 2]}

  # The value of an option: a path for --socket; a secret is best read from stdin ("-"), which
  # keeps it out of the shell history and of ps.
  case $prev in
    --socket)
      compopt -o filenames 2>/dev/null
      mapfile -t COMPREPLY < <(compgen -f -- "$cur")
      return
      ;;
    --api-key | --bot-token | --app-token | --token | --password)
      mapfile -t COMPREPLY < <(compgen -W '-' -- "$cur")
      return
      ;;
    --enterprise-domain | --username)
      COMPREPLY=()
      return
      ;;
  esac

  # The words before the cursor that are commands or arguments, not options or their values.
  local -a words=()
  local i word skip_value=0
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=${COMP_WORDS[i]}
    [[ $word == = ]] && continue
    if ((skip_value)); then
      skip_value=0
      continue
    fi
    case $word in
      --*=*) ;;
      --socket | --api-key | --enterprise-domain | --bot-token | --app-token | --token | \
        --username | --password)
        skip_value=1
        ;;
      -*) ;;
      *) words+=("$word") ;;
    esac
  done

  local providers='anthropic-claude-code openai-codex github-copilot google-antigravity
    google-gemini-cli openai anthropic google mistral groq openrouter xai deepseek perplexity
    nvidia claude codex copilot gemini-cli antigravity'
  local channels='telegram discord slack twitch email'
  # What may come next: arguments (commands, ids, names) and options, offered when the word
  # begins with "-" or there is no argument to offer.
  local arguments='' options='--socket --json --help'
  case "${words[0]-}" in
    '')
      arguments='auth channels daemon'
      options+=' --version'
      ;;
    auth)
      case "${words[1]-}" in
        '') arguments='list status set unset token login' ;;
        list | status | set | unset | token | login)
          ((${#words[@]} == 2)) && arguments=$providers
          case ${words[1]} in
            set) options+=' --api-key --oauth --enterprise-domain --no-browser --device' ;;
            login) options+=' --enterprise-domain --no-browser --device' ;;
          esac
          ;;
      esac
      ;;
    channels)
      case "${words[1]-}" in
        '') arguments='list show set unset' ;;
        show | set | unset)
          if ((${#words[@]} == 2)); then
            arguments=$channels
          elif [[ ${words[1]} == set ]]; then
            case ${words[2]} in
              telegram | discord) options+=' --bot-token' ;;
              slack) options+=' --bot-token --app-token' ;;
              twitch) options+=' --token' ;;
              email) options+=' --username --password' ;;
            esac
          fi
          ;;
      esac
      ;;
    daemon)
      [[ -z ${words[1]-} ]] && arguments='status'
      ;;
  esac
  local candidates=$arguments
  [[ $cur == -* || -z $arguments ]] && candidates=$options
  mapfile -t COMPREPLY < <(compgen -W "$candidates" -- "$cur")
}

complete -F _operatorctl operatorctl
